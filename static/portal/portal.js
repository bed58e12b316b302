// Autocomplete selects (tom-select) fed by the portal's scoped JSON endpoints.
function initAutocomplete(root) {
  root.querySelectorAll("select[data-autocomplete-url]").forEach(function (el) {
    if (el.tomselect) return;
    var url = el.dataset.autocompleteUrl;
    new TomSelect(el, {
      valueField: "value", labelField: "text", searchField: ["text"],
      maxOptions: 20, loadThrottle: 250,
      plugins: el.multiple ? ["remove_button"] : (el.required ? [] : ["clear_button"]),
      // Both texts come from the widget (portal/widgets.py), in the page's language.
      placeholder: el.dataset.placeholder,
      load: function (query, callback) {
        // A picker of colleagues sends the record's unit along (data-forward names its field).
        var forward = el.dataset.forward && el.form ? el.form.elements[el.dataset.forward] : null;
        var extra = forward && forward.value ? "&unit=" + encodeURIComponent(forward.value) : "";
        fetch(url + "?q=" + encodeURIComponent(query) + extra, {credentials: "same-origin"})
          .then(function (r) { return r.json(); })
          .then(function (data) { callback(data.results); })
          .catch(function () { callback(); });
      },
      render: {
        no_results: function (data, escape) { return '<div class="no-results">' + escape(el.dataset.noResults) + '</div>'; }
      },
      // Options come from the search of what is typed, not preloaded on focus: a
      // preload answering after a choice re-opened the list over the form. A single choice closes
      // the list and lets go of the focus at once; otherwise the next tap (on a phone: "保存") is
      // spent on closing the dropdown, which moves the page under the finger.
      closeAfterSelect: !el.multiple,
      // (After tom-select's own handling of the click, which focuses the control again.)
      onItemAdd: function () {
        var ts = this;
        if (!el.multiple) { setTimeout(function () { ts.close(); ts.blur(); }, 0); }
        // Several choices: what was typed is cleared, so the next name can be typed at once.
        else { ts.setTextboxValue(""); ts.refreshOptions(false); }
      }
    });
  });
}
document.addEventListener("DOMContentLoaded", function () { initAutocomplete(document); });
document.body && document.body.addEventListener("htmx:afterSwap", function (e) { initAutocomplete(e.target); });

// On a phone every list table becomes stacked cards (portal.css): each cell carries its column's
// heading, so nothing scrolls sideways and the status stays in view.
function cardifyTables(root) {
  root.querySelectorAll(".table-container table, table.table-cards").forEach(function (table) {
    var headings = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    table.classList.add("table-cards");
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      Array.prototype.forEach.call(tr.children, function (td, i) {
        if (!td.hasAttribute("data-label")) td.setAttribute("data-label", headings[i] || "");
      });
    });
  });
}
document.addEventListener("DOMContentLoaded", function () { cardifyTables(document); });
document.body && document.body.addEventListener("htmx:afterSwap", function (e) { cardifyTables(e.target); });

// The Content-Security-Policy allows no inline script: a select marked data-autosubmit submits its
// form when changed, a button marked data-print prints the page, a link marked data-back goes back.
document.addEventListener("change", function (e) {
  if (e.target.matches && e.target.matches("[data-autosubmit]") && e.target.form) e.target.form.submit();
});
document.addEventListener("click", function (e) {
  var button = e.target.closest && e.target.closest("[data-print]");
  if (button) { e.preventDefault(); window.print(); }
  var back = e.target.closest && e.target.closest("[data-back]");
  if (back && window.history.length > 1) { e.preventDefault(); window.history.back(); }
});

// A page showing a job that is still running (an import being checked or written) carries
// data-reload-in="<seconds>": it reloads itself until the job is done and the attribute is gone.
document.addEventListener("DOMContentLoaded", function () {
  var el = document.querySelector("[data-reload-in]");
  if (!el) return;
  var seconds = parseFloat(el.getAttribute("data-reload-in")) || 2;
  window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
});

// A box marked data-live-url shows what that address answers for the fields of its form named in
// data-live-fields, asked again 600 ms after the typing stops (one request per pause, the answer
// to an older request is dropped). Used where the page must work without a login (the anonymous
// demand form's suggestion), so the address is fetched with the page's own origin only.
(function () {
  var timers = new WeakMap(), latest = new WeakMap();
  function refresh(box) {
    var form = box.closest("form"), params = new URLSearchParams();
    (box.dataset.liveFields || "").split(" ").forEach(function (name) {
      var field = name && form && form.elements[name];
      if (field) params.set(name, field.value);
    });
    var url = box.dataset.liveUrl + "?" + params.toString();
    latest.set(box, url);
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { if (latest.get(box) === url) box.innerHTML = html; })
      .catch(function () {});
  }
  document.addEventListener("input", function (e) {
    var form = e.target.form;
    if (!form || !e.target.name) return;
    form.querySelectorAll("[data-live-url]").forEach(function (box) {
      if ((" " + box.dataset.liveFields + " ").indexOf(" " + e.target.name + " ") < 0) return;
      clearTimeout(timers.get(box));
      timers.set(box, setTimeout(function () { refresh(box); }, 600));
    });
  });
})();

// A part of a page htmx could not load (a demand step no longer open to this user, a record gone,
// a fault, no network) says so where it was loading, instead of loading for ever.
function showLoadError(e) {
  var box = e.detail && e.detail.target;
  if (!box || !document.body.dataset.loadError) return;
  var message = document.createElement("div");
  message.className = "alert alert-warning py-2 small mb-0";
  message.setAttribute("role", "alert");
  message.textContent = document.body.dataset.loadError;
  box.replaceChildren(message);
}
document.body && document.body.addEventListener("htmx:responseError", showLoadError);
document.body && document.body.addEventListener("htmx:sendError", showLoadError);
