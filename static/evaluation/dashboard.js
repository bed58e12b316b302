/* Charts of the KPI dashboard (ECharts, vendored). Data comes from the page (json_script); every
   clickable element opens the drill-down list behind it. */
(function () {
  var el = document.getElementById("dashboard-data");
  if (!el || !window.echarts) return;
  var data = JSON.parse(el.textContent);
  var charts = [];
  var red = "#b71c1c";

  function make(id, option, urls) {
    var node = document.getElementById(id);
    if (!node) return null;
    var chart = echarts.init(node, null, {renderer: "canvas"});
    chart.setOption(option);
    if (urls) {
      chart.on("click", function (params) {
        var url = urls(params);
        if (url) window.location.href = url;
      });
    }
    charts.push(chart);
    return chart;
  }

  // Figures are shown as the server formatted them (rounded half up, portal/numbers.py).
  function label(labels, index) {
    var text = labels && labels[index];
    return text === undefined || text === null ? "—" : text;
  }

  var t = data.trend;
  if (t && t.periods.length) {
    var series = [{type: "line", name: t.name, data: t.values, connectNulls: false, smooth: false,
                   symbolSize: 7, itemStyle: {color: red}, lineStyle: {color: red}}];
    if (t.target !== null) {
      series[0].markLine = {symbol: "none", lineStyle: {type: "dashed", color: "#198754"},
                            label: {position: "insideEndTop", formatter: t.targetLabel + " " + t.targetText},
                            data: [{yAxis: t.target}]};
    }
    make("chart-trend", {
      grid: {left: 48, right: 16, top: 24, bottom: 36},
      tooltip: {trigger: "axis", formatter: function (ps) {
        var p = ps[0];
        return p.axisValue + "<br>" + p.marker + t.name + "：" + label(t.labels, p.dataIndex);
      }},
      xAxis: {type: "category", data: t.periods, axisLabel: {hideOverlap: true}},
      yAxis: {type: "value", scale: !t.percent, min: t.percent ? 0 : null, max: t.percent ? 1 : null,
              axisLabel: {formatter: function (v) { return t.percent ? Math.round(v * 100) + "%" : v; }}},
      series: series
    }, function (p) { return t.urls[p.dataIndex]; });
  }

  var r = data.ranking;
  if (r && r.units.length) {
    make("chart-ranking", {
      grid: {left: 8, right: 48, top: 8, bottom: 8, containLabel: true},
      tooltip: {formatter: function (p) { return p.name + "：" + label(r.labels, p.dataIndex); }},
      xAxis: {type: "value", show: false, max: r.percent ? 1 : null},
      yAxis: {type: "category", inverse: true, data: r.units,
              axisLabel: {width: 110, overflow: "truncate"}},
      series: [{type: "bar", name: r.name, data: r.values, itemStyle: {color: red},
                label: {show: true, position: "right", formatter: function (p) { return label(r.labels, p.dataIndex); }}}]
    }, function (p) { return r.urls[p.dataIndex]; });
  }

  var h = data.heat;
  if (h && h.units.length) {
    var max = 1;
    h.cells.forEach(function (c) { if (c[2] > max) max = c[2]; });
    make("chart-heat", {
      grid: {left: 8, right: 8, top: 8, bottom: 56, containLabel: true},
      tooltip: {formatter: function (p) { return h.units[p.value[1]] + " · " + h.categories[p.value[0]] + "：" + p.value[2]; }},
      xAxis: {type: "category", data: h.categories, axisLabel: {interval: 0, rotate: 45}, splitArea: {show: true}},
      yAxis: {type: "category", data: h.units, inverse: true, axisLabel: {width: 100, overflow: "truncate"},
              splitArea: {show: true}},
      visualMap: {min: 0, max: max, show: false, inRange: {color: ["#fff5f5", "#f4a3a3", red]}},
      series: [{type: "heatmap", data: h.cells, label: {show: true, formatter: function (p) { return p.value[2] || ""; }}}]
    }, function (p) { return h.urls[p.value[1]][p.value[0]]; });
  }

  var f = data.funnel;
  if (f && f.length) {
    make("chart-funnel", {
      tooltip: {trigger: "item", formatter: "{b}：{c}"},
      // Labels beside the bars in dark text: text inside red bars was red on red.
      series: [{type: "funnel", left: "4%", width: "52%", top: 12, bottom: 12, minSize: "12%", sort: "none",
                label: {show: true, position: "right", color: "#212529", formatter: "{b} {c}"},
                labelLine: {show: true, length: 8, lineStyle: {color: "#adb5bd"}},
                itemStyle: {borderColor: "#fff"},
                color: ["#b71c1c", "#c62828", "#d84343", "#e57373", "#ef9a9a"],
                data: f.map(function (s) { return {name: s.name, value: s.value}; })}]
    }, function (p) { return f[p.dataIndex].url; });
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
