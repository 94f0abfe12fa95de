// Progressive enhancement only: every page works without this file.
(function () {
  'use strict';

  // 打印 buttons are rendered hidden because they need script to work.
  var buttons = document.querySelectorAll('[data-print]');
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].hidden = false;
    buttons[i].addEventListener('click', function () {
      window.print();
    });
  }

  // On narrow screens the catalogue's facet groups would push the results far
  // down: fold the groups that have no selected option (they stay open without script).
  if (window.matchMedia && window.matchMedia('(max-width: 960px)').matches) {
    var groups = document.querySelectorAll('details.facet');
    for (var j = 0; j < groups.length; j++) {
      if (!groups[j].querySelector('[aria-current]')) {
        groups[j].open = false;
      }
    }
  }

  // Title suggestions while typing on the search page (a plain datalist: the browser
  // shows it accessibly; without script the form works the same).
  var input = document.getElementById('sq');
  var list = document.getElementById('search-suggest');
  if (input && list && window.fetch) {
    var timer = null;
    var lastTyped = '';
    input.addEventListener('input', function () {
      var typed = input.value.trim();
      if (timer) { clearTimeout(timer); }
      if (typed.length < 2 || typed === lastTyped) { return; }
      timer = setTimeout(function () {
        lastTyped = typed;
        fetch('/api/v1/search/suggest?q=' + encodeURIComponent(typed), { headers: { Accept: 'application/json' } })
          .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
          .then(function (data) {
            while (list.firstChild) { list.removeChild(list.firstChild); }
            (data.suggestions || []).forEach(function (t) {
              var o = document.createElement('option');
              o.value = t;
              list.appendChild(o);
            });
          })
          .catch(function () {});
      }, 150);
    });
  }
})();
