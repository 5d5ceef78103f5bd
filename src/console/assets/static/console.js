// The console's progressive enhancement: every page works without it.
// - the faults table refreshes itself by short polling (server-rendered rows, escaped there);
// - forms with data-confirm ask in a dialog, then send confirmed=yes (without JS the server asks on a page);
// - canvases with data-chart are drawn with Chart.js, served by the daemon from its npm package.
'use strict';

(function () {
  var POLL_MS = Number(document.documentElement.getAttribute('data-poll-ms')) || 3000;

  function poll(section) {
    var url = section.getAttribute('data-poll');
    var busy = false;
    setInterval(function () {
      if (busy || document.hidden) return;
      // Do not replace the table under a keyboard user.
      if (section.contains(document.activeElement) && document.activeElement !== document.body) return;
      busy = true;
      fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
        .then(function (res) { return res.ok ? res.text() : null; })
        .then(function (html) { if (html !== null) section.innerHTML = html; })
        .catch(function () {})
        .then(function () { busy = false; });
    }, POLL_MS);
  }

  function confirmForms() {
    var dialog = document.getElementById('confirm-dialog');
    if (!dialog || typeof dialog.showModal !== 'function') return;
    document.querySelectorAll('form[data-confirm]').forEach(function (form) {
      form.addEventListener('submit', function (event) {
        if (form.querySelector('input[name="confirmed"]')) return;
        event.preventDefault();
        if (!form.reportValidity()) return;
        dialog.querySelector('#confirm-title').textContent = form.getAttribute('data-confirm');
        dialog.returnValue = '';
        dialog.showModal();
        dialog.addEventListener('close', function once() {
          dialog.removeEventListener('close', once);
          if (dialog.returnValue !== 'yes') return;
          var input = document.createElement('input');
          input.type = 'hidden';
          input.name = 'confirmed';
          input.value = 'yes';
          form.appendChild(input);
          form.submit();
        });
      });
    });
  }

  var COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4d7c0f', '#be185d'];

  function drawCharts() {
    var canvases = document.querySelectorAll('canvas[data-chart]');
    if (canvases.length === 0) return;
    var script = document.createElement('script');
    script.src = '/static/chart.umd.min.js';
    script.onload = function () {
      canvases.forEach(function (canvas) {
        var data = JSON.parse(canvas.getAttribute('data-chart'));
        if (canvas.getAttribute('data-kind') === 'estimate') drawEstimate(canvas, data);
        else drawSatisfaction(canvas, data);
      });
    };
    document.head.appendChild(script);
  }

  function drawEstimate(canvas, data) {
    var sets = [{ type: 'scatter', label: 'resolved faults', data: data.samples, backgroundColor: 'rgba(100,116,139,0.6)', pointRadius: 3 }];
    if (data.configured) sets.push({ type: 'line', label: 'configured', data: data.configured, borderColor: COLOURS[0], borderDash: [6, 4], pointRadius: 0, fill: false });
    if (data.fitted) sets.push({ type: 'line', label: 'fitted', data: data.fitted, borderColor: COLOURS[1], pointRadius: 0, fill: false });
    new window.Chart(canvas, {
      data: { datasets: sets },
      options: {
        animation: false,
        responsive: true,
        scales: { x: { type: 'linear', min: 0, max: 10, title: { display: true, text: 'fault severity (FS)' } }, y: { beginAtZero: true, title: { display: true, text: 'repair time (hours)' } } },
      },
    });
  }

  function drawSatisfaction(canvas, data) {
    new window.Chart(canvas, {
      type: 'line',
      data: {
        labels: data.weeks,
        datasets: data.series.map(function (s, i) { return { label: s.category, data: s.values, borderColor: COLOURS[i % COLOURS.length], spanGaps: true }; }),
      },
      options: { animation: false, responsive: true, scales: { y: { min: 1, max: 10, title: { display: true, text: 'CSS (1–10)' } } } },
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[data-poll]').forEach(poll);
    confirmForms();
    drawCharts();
  });
})();
