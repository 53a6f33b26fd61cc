// The dashboard's page: renders the event stream of `gsr ui` (or createDashboardHandler). Everything it
// shows was written into etcd by someone else, so it is only ever set as text (textContent, dataset),
// never parsed as HTML; the Content-Security-Policy forbids any other script anyway.
'use strict';

(() => {
  /** How long an arrival, a change or a departure stays highlighted. */
  const HIGHLIGHT_MS = 2000;
  /** Metadata longer than this is cut in the list (the whole of it is in the tooltip). */
  const METADATA_SHOWN = 300;
  const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\\]/gu;
  const UNSAFE_IN_JSON = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;

  const main = document.getElementById('services');
  const summary = document.getElementById('summary');
  const banner = document.getElementById('banner');
  const filter = document.getElementById('filter');
  const empty = document.getElementById('empty');

  /** Per service: its elements, and its rows by address. */
  const services = new Map();
  let etcdDown = null;
  /** When the lists shown were written to disk, while they come from a snapshot. */
  let snapshotOf = null;
  let streamDown = false;
  let updated = null;

  /**
   * Text as it may be shown: controls, invisible format characters (bidirectional overrides among
   * them), line separators and lone surrogates become visible \u{...} escapes, and so does a backslash
   * (one to one: two different texts never look the same), except in JSON, whose backslashes are
   * escapes already.
   */
  const shown = (text, json = false) =>
    String(text).replace(json ? UNSAFE_IN_JSON : UNSAFE, (c) =>
      c === '\\' ? '\\\\' : `\\u{${c.codePointAt(0).toString(16)}}`,
    );

  const element = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  const flash = (node, className) => {
    node.classList.add(className);
    setTimeout(() => node.classList.remove(className), HIGHLIGHT_MS);
  };

  const metadataText = (metadata) => (metadata === undefined ? '' : JSON.stringify(metadata));

  function serviceOf(name) {
    let service = services.get(name);
    if (service) return service;
    const section = element('section', 'service');
    section.dataset.service = name;
    const details = element('details');
    details.open = true;
    const head = element('summary');
    const title = element('h2', '', shown(name));
    const count = element('span', 'count', 'loading…');
    head.append(title, count);
    const problem = element('p', 'problem');
    problem.hidden = true;
    const list = element('ul', 'endpoints');
    list.setAttribute('aria-label', `Endpoints of ${shown(name)}`);
    details.append(head, problem, list);
    section.append(details);
    service = { name, section, count, problem, list, rows: new Map(), seen: false };
    services.set(name, service);
    // In name order, whatever order they arrive in.
    const after = [...services.keys()].filter((other) => other > name).sort()[0];
    main.insertBefore(section, after === undefined ? null : services.get(after).section);
    applyFilter(service);
    return service;
  }

  function rowFor(service, address) {
    const row = element('li');
    row.dataset.address = address;
    const label = element('span', 'address', shown(address));
    const state = element('span', 'state');
    const reason = element('span', 'reason');
    reason.hidden = true;
    const metadata = element('code', 'metadata');
    row.append(label, state, reason, metadata);
    return row;
  }

  // A state other than serving, as a badge; the operator's reason (anyone's text) beside it, as text.
  function setState(row, state, reason) {
    const node = row.querySelector('.state');
    const text = state === undefined ? '' : shown(String(state));
    node.textContent = text;
    node.hidden = text === '';
    const why = reason === undefined ? '' : shown(String(reason), true);
    node.title = why;
    const said = row.querySelector('.reason');
    said.textContent = why;
    said.hidden = why === '';
    row.dataset.endpointState = state === undefined ? 'serving' : String(state);
    row.dataset.reason = why;
  }

  function setMetadata(row, metadata) {
    const text = shown(metadataText(metadata), true);
    const node = row.querySelector('.metadata');
    node.textContent =
      text.length > METADATA_SHOWN
        ? `${text.slice(0, METADATA_SHOWN)}… (${text.length} chars)`
        : text;
    node.title = text.length > METADATA_SHOWN ? text : '';
    row.dataset.metadata = metadataText(metadata);
  }

  function depart(service, address, row) {
    if (row.dataset.state === 'departed') return;
    row.dataset.state = 'departed';
    row.classList.remove('arrived', 'changed');
    row.classList.add('departed');
    setTimeout(() => {
      if (row.dataset.state === 'departed') {
        row.remove();
        if (service.rows.get(address) === row) service.rows.delete(address);
        renderCount(service);
      }
    }, HIGHLIGHT_MS);
  }

  function renderEndpoints(service, endpoints) {
    const highlight = service.seen; // the first list is what there is, not news
    service.seen = true;
    service.problem.hidden = true;
    const next = new Set();
    let before = null;
    // Lists come sorted by address: walk them backwards so each row goes before the one after it.
    for (let i = endpoints.length - 1; i >= 0; i--) {
      const { address, metadata, state, reason } = endpoints[i];
      next.add(address);
      let row = service.rows.get(address);
      if (!row) {
        row = rowFor(service, address);
        service.rows.set(address, row);
        setMetadata(row, metadata);
        if (highlight) flash(row, 'arrived');
      } else if (row.dataset.state === 'departed') {
        delete row.dataset.state;
        row.classList.remove('departed');
        setMetadata(row, metadata);
        flash(row, 'arrived');
      } else if (row.dataset.metadata !== metadataText(metadata)) {
        setMetadata(row, metadata);
        flash(row, 'changed');
      }
      if (
        row.dataset.endpointState !== (state === undefined ? 'serving' : String(state)) ||
        row.dataset.reason !== (reason === undefined ? '' : shown(String(reason), true))
      ) {
        setState(row, state, reason);
      }
      if (row.nextSibling !== before || row.parentNode !== service.list) {
        service.list.insertBefore(row, before);
      }
      before = row;
    }
    for (const [address, row] of service.rows) {
      if (!next.has(address)) depart(service, address, row);
    }
    service.live = next.size;
    renderCount(service);
  }

  function renderCount(service) {
    const live = service.live ?? 0;
    service.count.textContent = `${live} endpoint${live === 1 ? '' : 's'}`;
  }

  function renderServices(names) {
    const current = new Set(names);
    for (const name of names) serviceOf(name);
    for (const [name, service] of services) {
      if (current.has(name)) continue;
      // Gone from the registry: its last endpoints leave, then the service.
      for (const [address, row] of service.rows) depart(service, address, row);
      service.live = 0;
      renderCount(service);
      services.delete(name);
      setTimeout(() => service.section.remove(), HIGHLIGHT_MS);
    }
  }

  function renderSummary() {
    let endpoints = 0;
    for (const service of services.values()) endpoints += service.live ?? 0;
    const time = updated ? ` · updated ${updated.toLocaleTimeString()}` : '';
    summary.textContent = `${services.size} service${services.size === 1 ? '' : 's'}, ${endpoints} endpoint${endpoints === 1 ? '' : 's'}${time}`;
    empty.hidden =
      [...services.values()].some((service) => !service.section.hidden) || !services.size;
  }

  function renderBanner() {
    if (streamDown) {
      banner.textContent =
        'Lost the connection to the dashboard server; reconnecting… (the lists may be out of date)';
    } else if (etcdDown && snapshotOf) {
      banner.textContent = `etcd has not answered since this server started at ${etcdDown.toLocaleTimeString()}: the lists are the last known, from a snapshot of ${snapshotOf.toLocaleString()}.`;
    } else if (etcdDown) {
      banner.textContent = `etcd is unreachable since ${etcdDown.toLocaleTimeString()}: the lists show the last state known.`;
    }
    banner.hidden = !streamDown && !etcdDown;
  }

  function applyFilter(service) {
    const query = filter.value.trim().toLowerCase();
    service.section.hidden = query !== '' && !service.name.toLowerCase().includes(query);
  }

  filter.addEventListener('input', () => {
    services.forEach(applyFilter);
    renderSummary();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === '/' && document.activeElement !== filter) {
      event.preventDefault();
      filter.focus();
    } else if (event.key === 'Escape' && document.activeElement === filter) {
      filter.value = '';
      services.forEach(applyFilter);
      renderSummary();
    }
  });

  const events = new EventSource('events');
  const on = (type, handle) =>
    events.addEventListener(type, (event) => {
      handle(JSON.parse(event.data));
      updated = new Date();
      renderSummary();
    });
  on('services', ({ services: names, snapshot }) => {
    snapshotOf = snapshot ? new Date(snapshot) : null;
    renderServices(names);
    renderBanner();
  });
  on('endpoints', ({ service, endpoints }) => {
    if (services.has(service)) renderEndpoints(services.get(service), endpoints);
  });
  on('health', ({ connected, since }) => {
    etcdDown = connected ? null : new Date(since);
    if (connected) snapshotOf = null; // etcd's own lists follow
    renderBanner();
  });
  on('problem', ({ service, message }) => {
    const target = service === undefined ? null : services.get(service);
    if (target) {
      target.problem.textContent = shown(message);
      target.problem.hidden = false;
    } else {
      banner.textContent = shown(message);
      banner.hidden = false;
    }
  });
  events.addEventListener('open', () => {
    if (streamDown) {
      // The server sends everything again: start from it, without flashing it all as news.
      for (const service of services.values()) service.section.remove();
      services.clear();
      streamDown = false;
      renderBanner();
    }
  });
  events.addEventListener('error', () => {
    streamDown = true;
    renderBanner();
  });
})();
