'use strict';
// The dead-letter console's page. Everything a message carries is put into the document with
// textContent, never as markup; the server's Content-Security-Policy allows no other script.

const params = new URLSearchParams(location.search);
const token = params.get('token');
const PAGE = 20;
const state = { queues: [], dlq: null, group: null, groups: [], offset: 0, matching: 0, mayAct: false,
  actionHeaders: {} };

function $(id) { return document.getElementById(id); }

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

function status(text, error) {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
}

async function api(path, options) {
  const headers = Object.assign({ Accept: 'application/json' }, (options && options.headers) || {});
  if (token) headers['X-Rabbitkit-Token'] = token;
  const response = await fetch(path, Object.assign({ credentials: 'same-origin' }, options, { headers }));
  const body = await response.json().catch(() => ({ error: response.status + ' ' + response.statusText }));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function queuePath(what) {
  return 'api/queues/' + encodeURIComponent(state.dlq) + '/' + what;
}

async function loadQueues() {
  const answer = await api('api/queues');
  state.queues = answer.queues;
  state.mayAct = answer.mayAct;
  state.actionHeaders = answer.actionHeaders || {};
  $('who').textContent = answer.readOnly ? 'read-only' : (answer.mayAct ? answer.user : answer.user + ' (read-only)');
  const wanted = state.dlq || params.get('queue');
  const first = state.queues.find(q => q.deadLetterQueue === wanted || q.queue === wanted) || state.queues[0];
  const list = $('queues');
  list.replaceChildren();
  for (const q of state.queues) {
    const button = el('button');
    button.type = 'button';
    button.append(el('span', q.deadLetterQueue), el('span', q.exists ? q.count : 'missing', 'count'));
    button.dataset.queue = q.deadLetterQueue;
    button.addEventListener('click', () => select(q.deadLetterQueue));
    list.append(el('li'));
    list.lastChild.append(button);
  }
  if (!first) {
    list.append(el('li', 'No dead-letter queue known yet.', 'empty'));
    return;
  }
  await select(first.deadLetterQueue);
}

async function select(dlq) {
  state.dlq = dlq;
  state.group = null;
  state.offset = 0;
  for (const b of document.querySelectorAll('nav button')) {
    b.setAttribute('aria-current', String(b.dataset.queue === dlq));
  }
  const q = state.queues.find(x => x.deadLetterQueue === dlq);
  $('queue').hidden = false;
  $('title').textContent = dlq;
  $('summary').textContent = q.count + ' dead letter(s), failed in \'' + q.queue + '\'';
  await loadLetters(); // the first page first: grouping reads the whole queue
  await loadGroups();
}

async function loadGroups() {
  $('summary').textContent += ' · grouping…';
  const answer = await api(queuePath('groups'));
  state.groups = answer.groups;
  $('summary').textContent = answer.count + ' dead letter(s), failed in \'' + answer.queue + '\'; '
    + answer.groups.length + ' group(s), read in ' + answer.readMillis + ' ms';
  const body = $('groups').tBodies[0];
  body.replaceChildren();
  if (answer.groups.length === 0) {
    const row = body.insertRow();
    row.append(el('td', 'No dead letters.', 'empty'));
    row.cells[0].colSpan = 7;
  }
  for (const g of answer.groups) {
    const row = body.insertRow();
    row.className = 'group';
    row.dataset.group = g.id;
    row.setAttribute('aria-selected', String(g.id === state.group));
    row.append(el('td', g.reason, 'reason'), el('td', g.exception || '—', 'exception'), el('td', g.example || ''),
      el('td', g.count, 'n count'), el('td', time(g.firstSeen), 'time'), el('td', time(g.lastSeen), 'time'));
    const actions = el('td', null, 'actions');
    actions.append(button('Show', 'show', () => { state.group = g.id; state.offset = 0; markGroup(); loadLetters(); }),
      button('Replay', 'act replay', () => act('replay', { group: g.id }, g.count + ' letter(s) of group ' + label(g))),
      button('Purge', 'act danger purge', () => act('purge', { group: g.id }, g.count + ' letter(s) of group ' + label(g))));
    row.append(actions);
  }
  enableActions();
}

function label(g) {
  return g.reason + (g.exception ? ' / ' + g.exception : '');
}

function markGroup() {
  for (const row of $('groups').tBodies[0].rows) {
    row.setAttribute('aria-selected', String(row.dataset.group === state.group));
  }
}

async function loadLetters() {
  const group = state.groups.find(g => g.id === state.group);
  $('letters-title').textContent = group ? 'Newest letters of ' + label(group) : 'Newest letters';
  const answer = await api(queuePath('letters') + '?limit=' + PAGE + '&offset=' + state.offset
    + (state.group ? '&group=' + encodeURIComponent(state.group) : ''));
  state.matching = answer.matching;
  const body = $('letters').tBodies[0];
  body.replaceChildren();
  $('select-all').checked = false;
  for (const l of answer.letters) {
    const row = body.insertRow();
    row.className = 'letter';
    row.dataset.id = l.id;
    const check = el('input');
    check.type = 'checkbox';
    check.value = l.id;
    check.setAttribute('aria-label', 'select');
    const cell = el('td');
    cell.append(check);
    const preview = el('pre', l.bodyPreview, 'body ' + l.bodyEncoding);
    const bodyCell = el('td', null, 'preview');
    bodyCell.append(preview);
    const exception = el('td', l.exception ? simpleName(l.exception) + (l.exceptionMessage ? ': ' + l.exceptionMessage : '')
      : '—', 'exception');
    if (l.exception) exception.title = l.exception;
    row.append(cell, el('td', time(l.lastFailedAt || l.firstFailedAt), 'time'), el('td', l.reason, 'reason'), exception,
      el('td', l.attempts, 'n'), el('td', l.messageId || '—'), bodyCell);
    row.addEventListener('click', e => { if (e.target !== check) toggleDetails(row, l); });
  }
  if (answer.letters.length === 0) {
    const row = body.insertRow();
    row.append(el('td', 'No letters.', 'empty'));
    row.cells[0].colSpan = 7;
  }
  const last = Math.min(state.offset + answer.letters.length, state.matching);
  $('page').textContent = (answer.letters.length ? (state.offset + 1) + '–' + last : '0') + ' of ' + state.matching;
  $('newer').disabled = state.offset === 0;
  $('older').disabled = last >= state.matching;
  enableActions();
}

function toggleDetails(row, l) {
  if (row.nextSibling && row.nextSibling.classList.contains('details')) {
    row.nextSibling.remove();
    return;
  }
  const details = document.createElement('tr');
  details.className = 'details';
  const cell = el('td');
  cell.colSpan = 7;
  const facts = el('dl');
  const add = (k, v) => { if (v !== null && v !== undefined) facts.append(el('dt', k), el('dd', v)); };
  add('original queue', l.originalQueue);
  add('original exchange', l.originalExchange === '' ? '(default)' : l.originalExchange);
  add('original routing key', l.originalRoutingKey);
  add('first failed at', l.firstFailedAt);
  add('content type', l.contentType);
  add('body size', l.bodySize + ' bytes (' + l.bodyEncoding + ')');
  for (const [k, v] of Object.entries(l.headers)) add(k, v);
  cell.append(facts);
  if (l.stackTrace) cell.append(el('pre', l.stackTrace));
  details.append(cell);
  row.after(details);
}

function button(text, className, onClick) {
  const b = el('button', text, className);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

function enableActions() {
  for (const b of document.querySelectorAll('button.act')) {
    b.disabled = !state.mayAct;
    if (!state.mayAct) b.title = 'read-only';
  }
}

function selectedIds() {
  return Array.from(document.querySelectorAll('#letters tbody input:checked'), c => c.value);
}

async function act(action, selection, what) {
  const q = state.queues.find(x => x.deadLetterQueue === state.dlq);
  const question = action === 'replay'
    ? 'Replay ' + what + ' to \'' + q.queue + '\'?'
    : 'Delete ' + what + ' from \'' + state.dlq + '\' for good?';
  if (!window.confirm(question)) return;
  status(action === 'replay' ? 'Replaying…' : 'Purging…');
  try {
    const answer = await api(queuePath(action), {
      method: 'POST',
      headers: Object.assign({ 'Content-Type': 'application/json' }, state.actionHeaders),
      body: JSON.stringify(Object.assign({ confirmed: true }, selection)),
    });
    status(action === 'replay'
      ? 'Replayed ' + answer.replayed + ' letter(s) to \'' + q.queue + '\''
        + (answer.skipped ? '; ' + answer.skipped + ' could not be delivered and stay' : '')
      : 'Purged ' + answer.purged + ' letter(s)');
    q.count = answer.count;
    state.group = null;
    state.offset = 0;
    await refresh();
  } catch (e) {
    status(e.message, true);
  }
}

async function refresh() {
  await loadQueues();
}

function simpleName(className) {
  return className.substring(Math.max(className.lastIndexOf('.'), className.lastIndexOf('$')) + 1);
}

function time(iso) {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—';
}

$('show-all').addEventListener('click', () => { state.group = null; state.offset = 0; markGroup(); loadLetters(); });
$('newer').addEventListener('click', () => { state.offset = Math.max(0, state.offset - PAGE); loadLetters(); });
$('older').addEventListener('click', () => { state.offset += PAGE; loadLetters(); });
$('select-all').addEventListener('change', e => {
  for (const c of document.querySelectorAll('#letters tbody input[type=checkbox]')) c.checked = e.target.checked;
});
$('replay-selected').addEventListener('click', () => {
  const ids = selectedIds();
  if (ids.length) act('replay', { ids }, ids.length + ' selected letter(s)');
});
$('purge-selected').addEventListener('click', () => {
  const ids = selectedIds();
  if (ids.length) act('purge', { ids }, ids.length + ' selected letter(s)');
});

loadQueues().catch(e => status(e.message, true));
