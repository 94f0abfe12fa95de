// The live interview page: follow new question-and-answer pairs and updates over
// server-sent events and append them without a reload. The server renders each entry's
// HTML (escaped there); without JavaScript the page refreshes itself instead.
(function () {
  'use strict';
  var list = document.getElementById('itv-entries');
  if (!list || !window.EventSource || !list.getAttribute('data-events')) { return; }
  var status = document.getElementById('itv-status');
  var last = list.getAttribute('data-last') || '0';
  var source = new EventSource(list.getAttribute('data-events') + '?after=' + encodeURIComponent(last));
  source.addEventListener('entry', function (ev) {
    if (ev.lastEventId && document.getElementById('e' + ev.lastEventId)) { return; }
    var tpl = document.createElement('template');
    tpl.innerHTML = ev.data;
    list.appendChild(tpl.content);
  });
  source.addEventListener('state', function (ev) {
    source.close();
    if (status && ev.data === 'ended') { status.textContent = '访谈已结束，感谢关注。'; }
  });
  source.onerror = function () {
    if (status && source.readyState === EventSource.CLOSED) { status.textContent = '实时更新已断开，请刷新页面查看最新内容。'; }
  };
}());
