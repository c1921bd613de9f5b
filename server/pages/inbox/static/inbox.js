// The inbox's only script: new leads appear on the Leads page as they
// are captured, through the page's event stream (Server-Sent Events),
// and the page's title counts them. Everything else works without it.
(function () {
  'use strict';
  var list = document.getElementById('leads');
  if (!list || !list.dataset.events || !window.EventSource) {
    return;
  }
  var title = document.title;
  var arrived = 0;
  var events = new EventSource(list.dataset.events);
  // The page says whether it is live (tests wait for it; so can a style).
  events.addEventListener('open', function () {
    list.dataset.live = 'open';
  });
  events.addEventListener('error', function () {
    list.dataset.live = 'connecting';
  });
  events.addEventListener('lead', function (e) {
    // A stream that reconnects may send a lead again.
    if (document.getElementById('lead-' + e.lastEventId)) {
      return;
    }
    // The server renders the row with the page's template, escaped there.
    var t = document.createElement('template');
    t.innerHTML = e.data;
    var row = t.content.firstElementChild;
    if (!row) {
      return;
    }
    row.classList.add('arrived');
    list.insertBefore(row, list.firstChild);
    var empty = document.getElementById('empty');
    if (empty) {
      empty.remove();
    }
    arrived++;
    document.title = '(' + arrived + ') ' + title;
  });
  // The count starts again when the tab is looked at again.
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && arrived > 0 && document.hasFocus()) {
      arrived = 0;
      document.title = title;
    }
  });
})();
