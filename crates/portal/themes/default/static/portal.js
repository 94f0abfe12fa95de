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
})();
