// The onrecord desk page: asks for a token once (kept in sessionStorage,
// sent only as an Authorization header), shows the report rendered by the
// server (GET /v1/report) and refreshes it whenever the live tail
// (GET /v1/events as JSON lines, read through fetch) brings an event; for a
// token with the append role, a form records a statement (POST /v1/events).
'use strict';

(() => {
  const TOKEN_KEY = 'onrecord-token';
  const REFRESH_DELAY_MS = 150;
  const SUGGEST_DELAY_MS = 250;
  const RETRY_DELAY_MS = 2000;
  const $ = (id) => document.getElementById(id);

  let token = sessionStorage.getItem(TOKEN_KEY);
  let tail = null;
  let lastSeq = 0;
  let refreshTimer = null;
  let choicesStale = false;
  let reportGeneration = 0;
  let suggestTimer = null;
  let stanceChosen = false;

  class Unauthorized extends Error {}

  function setLive(state, text) {
    const live = $('live');
    live.dataset.state = state;
    live.textContent = text;
  }

  async function api(path, options = {}) {
    const headers = Object.assign({}, options.headers || {}, {
      Authorization: 'Bearer ' + token,
    });
    const response = await fetch(path, Object.assign({}, options, { headers, cache: 'no-store' }));
    if (response.status === 401) {
      signOut('The token was refused: unknown, revoked or expired.');
      throw new Unauthorized();
    }
    return response;
  }

  async function problemText(response) {
    try {
      const problem = await response.json();
      let text = problem.detail || problem.title || 'HTTP ' + response.status;
      if (Array.isArray(problem.errors) && problem.errors.length) {
        text += ': ' + problem.errors.map((e) => e.detail).join('; ');
      }
      return text;
    } catch (_) {
      return 'HTTP ' + response.status;
    }
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    if (tail) tail.abort();
    tail = null;
    $('desk').hidden = true;
    $('record').hidden = true;
    $('sign-out').hidden = true;
    $('who').textContent = '';
    $('report').textContent = '';
    $('signin').hidden = false;
    $('signin-status').textContent = message || '';
    setLive('off', 'not connected');
  }

  async function signIn() {
    let who;
    try {
      const response = await api('/v1/whoami');
      if (!response.ok) {
        signOut(await problemText(response));
        return;
      }
      who = await response.json();
    } catch (e) {
      if (!(e instanceof Unauthorized)) signOut('The server cannot be reached: ' + e.message);
      return;
    }
    $('signin').hidden = true;
    $('desk').hidden = false;
    $('sign-out').hidden = false;
    $('who').textContent = who.name + ' (' + who.role + ')';
    const mayAppend = who.role === 'append' || who.role === 'admin';
    $('record').hidden = !mayAppend;
    try {
      const health = await (await fetch('/v1/health', { cache: 'no-store' })).json();
      lastSeq = health.head;
    } catch (_) {
      lastSeq = 0;
    }
    follow();
    if (mayAppend) await fillChoices();
    await refreshReport();
  }

  // The report, as the server renders it; details left open stay open.
  async function refreshReport() {
    const generation = ++reportGeneration;
    let response;
    try {
      response = await api('/v1/report');
    } catch (_) {
      return;
    }
    const html = response.ok ? await response.text() : null;
    if (generation !== reportGeneration) return;
    if (html === null) {
      setLive('retrying', 'report failed: ' + (await problemText(response)));
      return;
    }
    const report = $('report');
    const open = new Set(
      Array.from(report.querySelectorAll('section[data-proposition] details[open]'), (d) =>
        d.closest('section').dataset.proposition,
      ),
    );
    const parsed = new DOMParser().parseFromString(html, 'text/html');
    report.replaceChildren(...parsed.body.childNodes);
    for (const section of report.querySelectorAll('section[data-proposition]')) {
      const details = section.querySelector('details');
      if (details && open.has(section.dataset.proposition)) details.open = true;
    }
    report.dataset.seq = String(lastSeq);
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
      if (choicesStale && !$('record').hidden) {
        choicesStale = false;
        await fillChoices();
      }
      await refreshReport();
    }, REFRESH_DELAY_MS);
  }

  // The live tail as JSON lines; on its end or an error, resumes after the last seq seen.
  async function follow() {
    const controller = new AbortController();
    tail = controller;
    try {
      const response = await fetch('/v1/events?from=' + (lastSeq + 1), {
        headers: { Authorization: 'Bearer ' + token, Accept: 'application/x-ndjson' },
        signal: controller.signal,
        cache: 'no-store',
      });
      if (response.status === 401) {
        signOut('The token was refused: unknown, revoked or expired.');
        return;
      }
      if (!response.ok) throw new Error(await problemText(response));
      setLive('live', 'live');
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffered = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffered += decoder.decode(value, { stream: true });
        let newline;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) onTailItem(JSON.parse(line));
        }
      }
    } catch (e) {
      if (controller.signal.aborted) return;
      setLive('retrying', 'reconnecting: ' + e.message);
    }
    if (tail !== controller || !token) return;
    setLive('retrying', 'reconnecting');
    setTimeout(() => {
      if (tail === controller && token) follow();
    }, RETRY_DELAY_MS);
  }

  function onTailItem(item) {
    if (item.type === 'event') {
      lastSeq = Math.max(lastSeq, item.event.seq);
      if (item.event.type === 'party' || item.event.type === 'proposition') choicesStale = true;
      scheduleRefresh();
    } else if (item.type === 'caught-up') {
      lastSeq = Math.max(lastSeq, item.head);
    }
  }

  function option(value, label) {
    const element = document.createElement('option');
    element.value = value;
    element.textContent = label;
    return element;
  }

  // The form's propositions and parties, from the ledger; a choice made stays made.
  async function fillChoices() {
    try {
      const [propositions, parties] = await Promise.all([
        api('/v1/propositions').then((r) => r.json()),
        api('/v1/parties').then((r) => r.json()),
      ]);
      const refill = (select, head, items) => {
        const kept = select.value;
        select.replaceChildren(...head, ...items);
        if (Array.from(select.options).some((o) => o.value === kept)) select.value = kept;
      };
      refill($('proposition'), [], propositions.map((p) => option(p.id, p.text + ' (' + p.id + ')')));
      const partyOptions = () => parties.map((p) => option(p.id, p.name + ' (' + p.id + ')'));
      refill($('party'), [], partyOptions());
      refill($('speaker'), [option('', 'the party itself')], partyOptions());
    } catch (e) {
      if (!(e instanceof Unauthorized)) showStatus('error', 'Cannot load the choices: ' + e.message);
    }
  }

  function showStatus(kind, text) {
    const status = $('record-status');
    status.className = kind;
    status.textContent = text;
  }

  // The lexicon's suggestion for the quote typed; it sets the stance until one is chosen.
  async function suggestStance() {
    const text = $('quote').value;
    if (!text.trim()) {
      $('suggestion').textContent = '';
      return;
    }
    try {
      const response = await api('/v1/stance?text=' + encodeURIComponent(text));
      if (!response.ok) return;
      const found = await response.json();
      if (text !== $('quote').value) return;
      if (!found.stance) {
        $('suggestion').textContent = 'The lexicon finds no cue in this quote.';
        return;
      }
      $('suggestion').textContent =
        'The lexicon suggests ' + found.stance + ' (cue \u201c' + found.cue + '\u201d' +
        (found.negated ? ', negated' : '') + ').';
      $('suggestion').dataset.stance = found.stance;
      if (!stanceChosen) $('stance').value = found.stance;
    } catch (_) {
      // A suggestion is only a help; the form works without it.
    }
  }

  async function record(event) {
    event.preventDefault();
    const statement = {
      type: 'statement',
      proposition: $('proposition').value,
      party: $('party').value,
      stance: $('stance').value,
      said_at: $('said-at').value,
    };
    const speaker = $('speaker').value;
    if (speaker) statement.speaker = speaker;
    const quote = $('quote').value.trim();
    if (quote) statement.quote = quote;
    const source = $('source').value.trim();
    if (source) statement.source = source;
    const qualifiers = $('qualifiers').value.split(',').map((q) => q.trim()).filter((q) => q);
    if (qualifiers.length) statement.qualifiers = qualifiers;
    showStatus('', 'Recording\u2026');
    try {
      const response = await api('/v1/events', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(statement),
      });
      if (!response.ok) {
        showStatus('error', 'Refused: ' + (await problemText(response)));
        return;
      }
      const answer = await response.json();
      showStatus('ok', 'Recorded as seq ' + answer.seq + '.');
      $('quote').value = '';
      $('source').value = '';
      $('qualifiers').value = '';
      $('suggestion').textContent = '';
      stanceChosen = false;
    } catch (e) {
      if (!(e instanceof Unauthorized)) showStatus('error', 'Not recorded: ' + e.message);
    }
  }

  function today() {
    const now = new Date();
    const pad = (n) => String(n).padStart(2, '0');
    return now.getFullYear() + '-' + pad(now.getMonth() + 1) + '-' + pad(now.getDate());
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('token-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const typed = $('token').value.trim();
      $('token').value = '';
      if (!typed) return;
      token = typed;
      sessionStorage.setItem(TOKEN_KEY, token);
      signIn();
    });
    $('sign-out').addEventListener('click', () => signOut(''));
    $('record-form').addEventListener('submit', record);
    $('stance').addEventListener('change', () => {
      stanceChosen = true;
    });
    $('quote').addEventListener('input', () => {
      clearTimeout(suggestTimer);
      suggestTimer = setTimeout(suggestStance, SUGGEST_DELAY_MS);
    });
    $('said-at').value = today();
    if (token) signIn();
  });
})();
