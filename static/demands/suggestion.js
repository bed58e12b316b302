// "Use the suggestion" on the accept form: fills category, urgency and lead unit with what the
// text model suggested. Nothing is filled until the staff member asks for it.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-suggest-fill]");
  if (!button) return;
  const box = button.closest("[data-suggest-form]");
  const form = document.getElementById(box.dataset.suggestForm);
  if (!form) return;
  const set = (name, value) => {
    const field = form.querySelector(`[name="${name}"]`);
    if (!field || !value) return;
    if (field.tomselect) {
      field.tomselect.addOption({ value: value, text: box.dataset.leadUnitName || value });
      field.tomselect.setValue(value);
    } else {
      field.value = value;
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
  };
  set("category", box.dataset.category);
  set("urgency", box.dataset.urgency);
  set("lead_unit", box.dataset.leadUnit);
});
