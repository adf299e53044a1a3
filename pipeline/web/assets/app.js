// The pages' own script (no inline script is allowed by the Content-Security-Policy). The pages
// work without it; it only adds conveniences.
document.addEventListener('DOMContentLoaded', function () {
  var link = document.querySelector('#new-kiosk-link code');
  if (link) {
    link.textContent = window.location.origin + link.textContent;
  }
});

// The wall's daily series as an ECharts line (the server-drawn SVG stays when script or the
// library is missing). Data comes from the element's data attributes: no inline script.
document.addEventListener('DOMContentLoaded', function () {
  var el = document.getElementById('series-chart');
  if (!el || !window.echarts) {
    return;
  }
  var days = JSON.parse(el.dataset.days || '[]');
  var values = JSON.parse(el.dataset.values || '[]');
  el.innerHTML = '';
  el.style.height = '220px';
  var chart = window.echarts.init(el, 'dark', { renderer: 'canvas' });
  chart.setOption({
    backgroundColor: 'transparent',
    animation: false,
    grid: { left: 70, right: 16, top: 16, bottom: 28 },
    tooltip: { trigger: 'axis', valueFormatter: function (v) { return (v / 10000).toFixed(1) + '万'; } },
    xAxis: { type: 'category', data: days },
    yAxis: { type: 'value', scale: true, axisLabel: { formatter: function (v) { return (v / 10000).toFixed(0) + '万'; } } },
    series: [{ type: 'line', data: values, showSymbol: false, lineStyle: { color: '#ffd666', width: 3 } }]
  });
  window.addEventListener('resize', function () { chart.resize(); });
});
