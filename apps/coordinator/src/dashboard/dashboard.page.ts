import { createHash } from 'node:crypto';

/*
 * The dashboard: one self-contained page (no build step, nothing fetched from elsewhere). It holds
 * no data; everything arrives as snapshots on the `/api/v1/stream` server-sent events. The
 * script and styles are plain strings (String.raw: no backticks or template holes inside).
 */

const STYLE = String.raw`
:root {
  --bg: #0d1117; --panel: #151b23; --panel2: #1b2330; --line: #283241; --text: #e6edf3; --muted: #8b98a9;
  --alive: #22c55e; --suspect: #f59e0b; --dead: #ef4444; --draining: #3b82f6; --left: #6b7280;
  --leader: #a855f7; --insync: #2dd4bf; --catching: #f59e0b; --offline: #ef4444; --down: #4b5563;
  --label: 128px; --cell: 26px;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--text);
  font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { display: flex; align-items: center; gap: 16px; padding: 10px 20px; border-bottom: 1px solid var(--line); background: var(--panel); }
.brand { font-weight: 700; font-size: 17px; letter-spacing: .3px; display: flex; align-items: center; gap: 8px; }
.brand .logo { display: inline-grid; grid-template-columns: repeat(2, 7px); gap: 2px; }
.brand .logo i { width: 7px; height: 7px; border-radius: 1px; background: var(--leader); }
.brand .logo i:nth-child(2) { background: var(--insync); } .brand .logo i:nth-child(3) { background: var(--insync); }
.brand .logo i:nth-child(4) { background: var(--catching); }
.cluster { color: var(--muted); font-size: 14px; } .cluster b { color: var(--text); font-weight: 600; }
.spacer { flex: 1; }
.conn { display: inline-flex; align-items: center; gap: 7px; padding: 3px 10px; border-radius: 999px; background: var(--panel2); border: 1px solid var(--line); }
.conn .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--left); }
.conn[data-conn="live"] .dot { background: var(--alive); box-shadow: 0 0 0 0 rgba(34,197,94,.6); animation: pulse 2s infinite; }
.conn[data-conn="reconnecting"] .dot, .conn[data-conn="stale"] .dot, .conn[data-conn="connecting"] .dot { background: var(--suspect); }
.conn[data-conn="refused"] .dot { background: var(--dead); }
@keyframes pulse { 0% { box-shadow: 0 0 0 0 rgba(34,197,94,.55); } 70% { box-shadow: 0 0 0 7px rgba(34,197,94,0); } 100% { box-shadow: 0 0 0 0 rgba(34,197,94,0); } }
.muted { color: var(--muted); }
.counters { display: grid; grid-template-columns: 2.2fr repeat(5, 1fr); gap: 12px; padding: 14px 20px 0; }
.tile { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-height: 66px; }
.tile .k { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .6px; }
.tile .v { font-size: 24px; font-weight: 650; margin-top: 2px; font-variant-numeric: tabular-nums; }
.tile .v small { font-size: 14px; color: var(--muted); font-weight: 500; }
.tile.warn { border-color: rgba(245,158,11,.6); } .tile.warn .v { color: var(--suspect); }
.tile.bad { border-color: rgba(239,68,68,.7); } .tile.bad .v { color: var(--dead); }
.chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; }
.chip { display: inline-flex; align-items: center; gap: 6px; padding: 2px 9px; border-radius: 999px; background: var(--panel2); border: 1px solid var(--line); font-weight: 600; font-variant-numeric: tabular-nums; }
.chip.zero { opacity: .45; }
.chip .dot, .gl .dot { width: 8px; height: 8px; border-radius: 50%; display: inline-block; flex: none; }
.st-ALIVE { --st: var(--alive); } .st-SUSPECT { --st: var(--suspect); } .st-DEAD { --st: var(--dead); }
.st-DRAINING { --st: var(--draining); } .st-LEFT { --st: var(--left); } .st-UNKNOWN { --st: var(--left); }
.dot[class*="st-"] { background: var(--st); }
main { display: grid; grid-template-columns: 380px minmax(0, 1fr); gap: 14px; padding: 14px 20px 20px; align-items: start; }
.col { display: grid; gap: 14px; min-width: 0; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
.panel h2 { margin: 0 0 10px; font-size: 13px; text-transform: uppercase; letter-spacing: .7px; color: var(--muted); font-weight: 650; }
.zone { margin-bottom: 12px; } .zone:last-child { margin-bottom: 0; }
.zone-h { display: flex; justify-content: space-between; font-weight: 600; margin-bottom: 6px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 8px; }
.card { background: var(--panel2); border: 1px solid var(--line); border-left: 4px solid var(--st); border-radius: 6px; padding: 7px 9px; }
.card.st-DEAD { background: rgba(239,68,68,.10); } .card.st-LEFT { opacity: .6; }
.card .top { display: flex; justify-content: space-between; align-items: center; gap: 6px; }
.card .id { font-weight: 650; font-size: 14px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.badge { font-size: 10px; font-weight: 700; letter-spacing: .5px; padding: 1px 7px; border-radius: 4px; color: #0d1117; background: var(--st, var(--left)); }
.card .line { display: flex; justify-content: space-between; gap: 6px; font-size: 12px; margin-top: 2px; }
.card .hb { white-space: nowrap; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin: -2px 0 12px; color: var(--muted); font-size: 12px; }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.legend i { width: 14px; height: 14px; border-radius: 3px; display: inline-block; }
.res { margin-bottom: 18px; } .res:last-child { margin-bottom: 0; }
.res-h { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; margin-bottom: 6px; }
.res-h .name { font-size: 15px; font-weight: 700; }
.pill { font-size: 11px; padding: 1px 8px; border-radius: 999px; border: 1px solid var(--line); color: var(--muted); }
.pill.warn { color: var(--suspect); border-color: rgba(245,158,11,.6); } .pill.bad { color: var(--dead); border-color: rgba(239,68,68,.7); }
.grid { display: grid; gap: 2px; margin-bottom: 8px; width: max-content; max-width: 100%; }
.gl { width: var(--label); display: flex; align-items: center; gap: 6px; padding-right: 8px; white-space: nowrap; overflow: hidden; font-size: 12px; height: var(--cell); }
.gl .z { color: var(--muted); font-size: 11px; }
.zs { grid-column: 1 / -1; color: var(--muted); font-size: 10px; text-transform: uppercase; letter-spacing: .6px; padding: 4px 0 0; }
.ph { height: 18px; font-size: 10px; color: var(--muted); text-align: center; border-bottom: 3px solid rgba(34,197,94,.55); font-variant-numeric: tabular-nums; overflow: hidden; }
.ph.ur { border-bottom-color: var(--suspect); color: var(--suspect); } .ph.off { border-bottom-color: var(--offline); color: var(--offline); }
.c { width: var(--cell); height: var(--cell); border-radius: 3px; background: #1f2835; display: grid; place-items: center; font-size: 11px; font-weight: 800; color: rgba(13,17,23,.85); }
.c.leader { background: var(--leader); color: #fff; }
.c.insync { background: var(--insync); }
.c.catching { background: repeating-linear-gradient(135deg, var(--catching) 0 4px, rgba(245,158,11,.45) 4px 8px); }
.c.offline { background: var(--offline); color: #fff; }
.c.down { background: repeating-linear-gradient(135deg, var(--down) 0 3px, #2a323e 3px 6px); }
.flash { animation: flash 1.6s ease-out; }
@keyframes flash { 0% { box-shadow: 0 0 0 3px #fff; } 100% { box-shadow: 0 0 0 0 rgba(255,255,255,0); } }
.op { padding: 8px 0; border-top: 1px solid var(--line); } .op:first-child { border-top: 0; padding-top: 0; }
.op .top { display: flex; align-items: center; gap: 8px; }
.op .kind { font-weight: 650; text-transform: lowercase; } .op .subj { color: var(--muted); flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.op .badge { --st: var(--left); }
.op.s-RUNNING .badge, .op.s-PENDING .badge { --st: var(--draining); } .op.s-SUCCEEDED .badge { --st: var(--alive); }
.op.s-FAILED .badge { --st: var(--dead); } .op.s-CANCELLED .badge { --st: var(--left); }
.bar { height: 7px; background: #243041; border-radius: 4px; overflow: hidden; margin: 6px 0 3px; }
.bar .fill { height: 100%; background: var(--draining); border-radius: 4px; transition: width .4s ease; }
.op.s-SUCCEEDED .fill { background: var(--alive); } .op.s-FAILED .fill { background: var(--dead); }
.op.s-RUNNING .fill { background-image: linear-gradient(90deg, var(--draining), #60a5fa, var(--draining)); background-size: 200% 100%; animation: slide 1.5s linear infinite; }
@keyframes slide { from { background-position: 200% 0; } to { background-position: 0 0; } }
.op .meta { font-size: 12px; } .op .err { color: var(--dead); display: block; }
.empty { color: var(--muted); padding: 6px 0; }
.empty code { background: var(--panel2); padding: 1px 5px; border-radius: 4px; }
#auth { position: fixed; inset: 0; background: rgba(5,8,12,.72); display: grid; place-items: center; }
#auth[hidden] { display: none; }
#auth form { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 20px 22px; width: 420px; display: grid; gap: 10px; }
#auth input { background: var(--bg); border: 1px solid var(--line); color: var(--text); border-radius: 6px; padding: 8px 10px; font: inherit; }
#auth button { background: var(--draining); color: #fff; border: 0; border-radius: 6px; padding: 8px 10px; font: inherit; font-weight: 650; cursor: pointer; }
`;

const SCRIPT = String.raw`
(function () {
  'use strict';
  var TOKEN_KEY = 'tessera.adminToken';
  var STALE_MS = 12000;
  var ROLE_NAMES = { leader: 'leader', insync: 'in-sync follower', catching: 'catching up (not in ISR)', offline: 'offline (no leader)', down: 'replica on a down node' };
  var view = { snapshot: null, receivedAt: 0, offset: 0, roles: {}, nodeStates: {}, es: null, retry: null, token: '' };

  function $(id) { return document.getElementById(id); }
  function esc(v) {
    return String(v).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function byNatural(a, b) { return String(a).localeCompare(String(b), undefined, { numeric: true }); }
  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }
  function age(ms) {
    if (!(ms >= 0)) ms = 0;
    if (ms < 10000) return (ms / 1000).toFixed(1) + ' s';
    if (ms < 120000) return Math.round(ms / 1000) + ' s';
    if (ms < 7200000) return Math.round(ms / 60000) + ' min';
    return Math.round(ms / 3600000) + ' h';
  }
  function serverNow() { return Date.now() + view.offset; }

  /* Token: ?token= (saved, then removed from the address bar) or the one saved before. */
  function loadToken() {
    var params = new URLSearchParams(location.search);
    var given = params.get('token');
    if (given) {
      try {
        localStorage.setItem(TOKEN_KEY, given);
        params.delete('token');
        var rest = params.toString();
        history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
      } catch (e) { /* storage unavailable: keep it in the URL */ }
      return given;
    }
    try { return localStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }

  function setConn(state, text) {
    var el = $('conn');
    el.setAttribute('data-conn', state);
    $('conn-text').textContent = text;
  }

  function connect() {
    clearTimeout(view.retry);
    if (view.es) view.es.close();
    var url = 'api/v1/stream' + (view.token ? '?token=' + encodeURIComponent(view.token) : '');
    var es = new EventSource(url);
    view.es = es;
    setConn('connecting', 'connecting');
    es.addEventListener('snapshot', function (ev) {
      var snapshot;
      try { snapshot = JSON.parse(ev.data); } catch (e) { return; }
      onSnapshot(snapshot);
    });
    es.addEventListener('error', function () {
      if (es !== view.es) return;
      if (es.readyState === EventSource.CLOSED) {
        /* Refused (no or wrong token, or the server said no): ask, and try again later anyway. */
        setConn('refused', 'refused');
        $('auth').hidden = false;
        view.retry = setTimeout(connect, 10000);
      } else {
        setConn('reconnecting', 'reconnecting');
      }
    });
  }

  function onSnapshot(s) {
    view.snapshot = s;
    view.receivedAt = Date.now();
    view.offset = Date.parse(s.at) - Date.now();
    $('auth').hidden = true;
    setConn('live', 'live');
    render(s);
  }

  function nodeOrder(nodes) {
    return nodes.slice().sort(function (a, b) { return byNatural(a.zone, b.zone) || byNatural(a.id, b.id); });
  }

  function roleOf(p, nodeId, nodeState) {
    var replica = p.replicas.indexOf(nodeId) >= 0;
    if (p.leader === nodeId) return 'leader';
    if (!replica) return '';
    if (p.leader === null) return 'offline';
    if (p.isr.indexOf(nodeId) >= 0) return 'insync';
    if (nodeState === 'DEAD' || nodeState === 'LEFT') return 'down';
    return 'catching';
  }

  function partitionState(p) {
    if (p.leader === null) return 'off';
    for (var i = 0; i < p.replicas.length; i++) if (p.isr.indexOf(p.replicas[i]) < 0) return 'ur';
    return 'ok';
  }

  function render(s) {
    $('cluster').textContent = s.cluster;
    document.title = 'Tessera · ' + s.cluster;
    renderCounters(s);
    var stats = nodeStats(s);
    renderNodes(s, stats);
    renderResources(s);
    renderOperations(s);
    tick();
  }

  function tile(key, label, value, cls) {
    return '<div class="tile ' + (cls || '') + '" data-counter="' + key + '"><div class="k">' + esc(label) + '</div><div class="v">' + value + '</div></div>';
  }

  function renderCounters(s) {
    var n = s.summary.nodes, p = s.summary.partitions;
    var states = ['ALIVE', 'SUSPECT', 'DEAD', 'DRAINING', 'LEFT'];
    var chips = states.map(function (st) {
      return '<span class="chip' + (n[st] ? '' : ' zero') + '" data-nodes-state="' + st + '"><span class="dot st-' + st + '"></span>' + st + ' <b>' + n[st] + '</b></span>';
    }).join('');
    $('counters').innerHTML =
      '<div class="tile" data-counter="nodes"><div class="k">Nodes · ' + s.nodes.length + '</div><div class="chips">' + chips + '</div></div>' +
      tile('led', 'Partitions led', p.led + ' <small>/ ' + p.total + '</small>', p.led < p.total ? 'warn' : '') +
      tile('under-replicated', 'Under-replicated', String(p.underReplicated), p.underReplicated > 0 ? 'warn' : '') +
      tile('offline', 'Offline', String(p.offline), p.offline > 0 ? 'bad' : '') +
      tile('version', 'Map version', String(s.map.version)) +
      tile('operations', 'Operations running', String(s.summary.operationsRunning));
  }

  function nodeStats(s) {
    var stats = {};
    s.map.resources.forEach(function (r) {
      r.partitions.forEach(function (p) {
        p.replicas.forEach(function (id) {
          var st = stats[id] || (stats[id] = { leaders: 0, replicas: 0 });
          st.replicas += 1;
        });
        if (p.leader !== null) {
          var l = stats[p.leader] || (stats[p.leader] = { leaders: 0, replicas: 0 });
          l.leaders += 1;
        }
      });
    });
    return stats;
  }

  function renderNodes(s, stats) {
    var zones = {};
    nodeOrder(s.nodes).forEach(function (n) { (zones[n.zone] = zones[n.zone] || []).push(n); });
    var names = Object.keys(zones).sort(byNatural);
    var previous = view.nodeStates;
    view.nodeStates = {};
    if (names.length === 0) {
      $('zones').innerHTML = '<div class="empty">No nodes registered yet.</div>';
      return;
    }
    $('zones').innerHTML = names.map(function (zone) {
      var cards = zones[zone].map(function (n) {
        view.nodeStates[n.id] = n.state;
        var st = stats[n.id] || { leaders: 0, replicas: 0 };
        var changed = previous[n.id] !== undefined && previous[n.id] !== n.state;
        return '<div class="card st-' + esc(n.state) + (changed ? ' flash' : '') + '" data-node="' + esc(n.id) + '" data-state="' + esc(n.state) + '">' +
          '<div class="top"><span class="id" title="' + esc(n.id) + '">' + esc(n.id) + '</span><span class="badge">' + esc(n.state) + '</span></div>' +
          '<div class="line muted"><span>rack ' + esc(n.rack) + ' · cap ' + esc(n.capacity) + (n.tags.length ? ' · ' + esc(n.tags.join(', ')) : '') + '</span></div>' +
          '<div class="line"><span>' + plural(st.leaders, 'leader', 'leaders') + ' · ' + plural(st.replicas, 'replica', 'replicas') + '</span>' +
          '<span class="muted hb" data-hb="' + esc(n.lastHeartbeatAt || '') + '"></span></div></div>';
      }).join('');
      return '<div class="zone" data-zone="' + esc(zone) + '"><div class="zone-h"><span>zone ' + esc(zone) + '</span><span class="muted">' + plural(zones[zone].length, 'node', 'nodes') + '</span></div><div class="cards">' + cards + '</div></div>';
    }).join('');
  }

  function renderResources(s) {
    var host = $('resources');
    if (s.map.resources.length === 0) {
      host.innerHTML = '<div class="empty">No resources yet. Create one: <code>tessera resources create orders --partitions 16 --replication-factor 3</code></div>';
      view.roles = {};
      return;
    }
    var meta = {};
    s.resources.forEach(function (r) { meta[r.name] = r; });
    var rows = nodeOrder(s.nodes.filter(function (n) { return n.state !== 'LEFT'; }));
    var known = {};
    s.nodes.forEach(function (n) { known[n.id] = n; });
    var listed = {};
    rows.forEach(function (n) { listed[n.id] = true; });
    /* Replicas on nodes the node list does not show (gone, or LEFT but still assigned). */
    s.map.resources.forEach(function (r) {
      r.partitions.forEach(function (p) {
        p.replicas.forEach(function (id) {
          if (!listed[id]) { listed[id] = true; rows.push(known[id] || { id: id, zone: '?', state: 'UNKNOWN' }); }
        });
      });
    });
    var width = Math.max(320, host.clientWidth - 140);
    var previous = view.roles;
    view.roles = {};
    host.innerHTML = s.map.resources.map(function (r) { return renderResource(r, meta[r.name], rows, width, previous); }).join('');
  }

  function renderResource(r, meta, rows, width, previous) {
    var ps = r.partitions;
    var led = 0, ur = 0, off = 0;
    ps.forEach(function (p) { var st = partitionState(p); if (st === 'off') off++; else { led++; if (st === 'ur') ur++; } });
    var perBand = Math.max(8, Math.floor(width / 14));
    var cols = Math.min(ps.length, perBand);
    var cell = Math.max(12, Math.min(34, Math.floor(width / Math.max(cols, 1)) - 2));
    var labelEvery = cell >= 20 ? 1 : cell >= 14 ? 4 : 8;
    var html = '<div class="res" data-resource="' + esc(r.name) + '"><div class="res-h"><span class="name">' + esc(r.name) + '</span>' +
      '<span class="muted">' + plural(r.partitionCount, 'partition', 'partitions') +
      (meta ? ' · RF ' + meta.replicationFactor + ' · spread by ' + esc(meta.placement.spreadBy) : '') + '</span>' +
      '<span class="pill">' + led + ' led</span>' +
      '<span class="pill' + (ur ? ' warn' : '') + '">' + ur + ' under-replicated</span>' +
      '<span class="pill' + (off ? ' bad' : '') + '">' + off + ' offline</span></div>';
    for (var start = 0; start < ps.length; start += perBand) {
      var band = ps.slice(start, start + perBand);
      html += '<div class="grid" style="--cell:' + cell + 'px;grid-template-columns:var(--label) repeat(' + band.length + ',var(--cell))">';
      html += '<div class="gl muted">' + (start === 0 ? 'partition' : '') + '</div>';
      band.forEach(function (p) {
        var st = partitionState(p);
        var title = r.name + '/' + p.partition + ' · leader ' + (p.leader || 'none') + ' · epoch ' + p.epoch + ' · ISR ' + (p.isr.join(', ') || 'empty');
        html += '<div class="ph ' + st + '" data-partition="' + p.partition + '" data-pstate="' + st + '" title="' + esc(title) + '">' +
          (p.partition % labelEvery === 0 ? p.partition : '') + '</div>';
      });
      var zone = null;
      rows.forEach(function (n) {
        if (n.zone !== zone) {
          zone = n.zone;
          html += '<div class="zs">zone ' + esc(zone) + '</div>';
        }
        html += '<div class="gl"><span class="dot st-' + esc(n.state) + '"></span><span>' + esc(n.id) + '</span></div>';
        band.forEach(function (p) {
          var role = roleOf(p, n.id, n.state);
          var key = r.name + '/' + p.partition + '/' + n.id;
          view.roles[key] = role;
          var changed = previous[key] !== undefined && previous[key] !== role;
          var mark = role === 'leader' && cell >= 18 ? 'L' : role === 'offline' && cell >= 18 ? '×' : '';
          var title = r.name + '/' + p.partition + ' on ' + n.id + ': ' + (role ? ROLE_NAMES[role] : 'no replica') + (role ? ' · epoch ' + p.epoch : '');
          html += '<div class="c ' + role + (changed ? ' flash' : '') + '" data-node="' + esc(n.id) + '" data-partition="' + p.partition + '" data-role="' + (role || 'none') + '" title="' + esc(title) + '">' + mark + '</div>';
        });
      });
      html += '</div>';
    }
    return html + '</div>';
  }

  function renderOperations(s) {
    if (s.operations.length === 0) {
      $('operations').innerHTML = '<div class="empty">No operations yet.</div>';
      return;
    }
    $('operations').innerHTML = s.operations.map(function (o) {
      var total = o.progress.total, done = o.progress.done;
      var pct = total > 0 ? Math.min(100, Math.round((done / total) * 100)) : (o.state === 'SUCCEEDED' ? 100 : 0);
      var took = o.finishedAt ? ' · took ' + age(Date.parse(o.finishedAt) - Date.parse(o.startedAt)) : '';
      /* A re-replication waiting out its grace delay: when it will start. */
      if (o.state === 'PENDING' && o.dueAt) took += ' · starts ' + esc(new Date(o.dueAt).toLocaleTimeString());
      return '<div class="op s-' + esc(o.state) + '" data-op="' + esc(o.id) + '" data-op-state="' + esc(o.state) + '">' +
        '<div class="top"><span class="kind">' + esc(o.kind.replace(/_/g, ' ')) + '</span><span class="subj">' + esc(o.subject) + '</span><span class="badge">' + esc(o.state) + '</span></div>' +
        '<div class="bar"><div class="fill" style="width:' + pct + '%"></div></div>' +
        '<div class="meta muted">' + done + ' / ' + total + ' · ' + pct + '% · started <span data-since="' + esc(o.startedAt) + '"></span> ago' + took +
        (o.error ? '<span class="err">' + esc(o.error) + '</span>' : '') + '</div></div>';
    }).join('');
  }

  /* Ages tick between snapshots, measured on the server's clock. */
  function tick() {
    var now = serverNow();
    var hbs = document.querySelectorAll('[data-hb]');
    for (var i = 0; i < hbs.length; i++) {
      var at = hbs[i].getAttribute('data-hb');
      hbs[i].textContent = at ? '♥ ' + age(now - Date.parse(at)) + ' ago' : 'no heartbeat';
    }
    var since = document.querySelectorAll('[data-since]');
    for (var j = 0; j < since.length; j++) since[j].textContent = age(now - Date.parse(since[j].getAttribute('data-since')));
    if (view.snapshot) {
      var quiet = Date.now() - view.receivedAt;
      $('updated').textContent = 'updated ' + age(quiet) + ' ago';
      if (quiet > STALE_MS && $('conn').getAttribute('data-conn') === 'live') setConn('stale', 'stale');
    }
  }

  $('auth-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    view.token = $('auth-token').value.trim();
    try { localStorage.setItem(TOKEN_KEY, view.token); } catch (e) { /* kept for this page only */ }
    $('auth').hidden = true;
    connect();
  });
  var resizing = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { if (view.snapshot) renderResources(view.snapshot); }, 150);
  });
  setInterval(tick, 500);
  view.token = loadToken();
  connect();
})();
`;

const BODY = String.raw`
<header>
  <div class="brand"><span class="logo"><i></i><i></i><i></i><i></i></span>Tessera</div>
  <span class="cluster">cluster <b id="cluster"></b></span>
  <span class="spacer"></span>
  <span class="muted" id="updated"></span>
  <span class="conn" id="conn" data-conn="connecting"><span class="dot"></span><span id="conn-text">connecting</span></span>
</header>
<section class="counters" id="counters"></section>
<main>
  <div class="col">
    <section class="panel"><h2>Nodes by zone</h2><div id="zones"><div class="empty">Waiting for the first snapshot…</div></div></section>
    <section class="panel"><h2>Operations</h2><div id="operations"></div></section>
  </div>
  <section class="panel"><h2>Partitions · node × partition</h2>
    <div class="legend">
      <span><i style="background:var(--leader)"></i>leader</span>
      <span><i style="background:var(--insync)"></i>in-sync follower</span>
      <span><i class="c catching" style="width:14px;height:14px"></i>catching up (not in ISR)</span>
      <span><i style="background:var(--offline)"></i>offline (no leader)</span>
      <span><i class="c down" style="width:14px;height:14px"></i>replica on a down node</span>
    </div>
    <div id="resources"></div>
  </section>
</main>
<div id="auth" hidden>
  <form id="auth-form">
    <b>Admin token needed</b>
    <span class="muted">The cluster refused the live stream. If it runs with TESSERA_ADMIN_TOKEN, enter the token (kept in this browser), or open this page as <code>/?token=…</code>.</span>
    <input id="auth-token" type="password" autocomplete="off" placeholder="admin token">
    <button type="submit">Connect</button>
  </form>
</div>
`;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tessera</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;

/** Only this page's own script runs (by hash); it may talk to this origin only. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${createHash('sha256').update(SCRIPT).digest('base64')}'`,
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
