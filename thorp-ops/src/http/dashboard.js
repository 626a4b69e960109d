// thorp-ops dashboard: polls the ops JSON endpoints and renders them. Every value is set
// with textContent, never parsed as HTML. URLs are relative to the page, so the router may
// be mounted under a prefix.
'use strict';

const POLL_MS = 2000;
const STATUSES = ['healthy', 'degraded', 'critical'];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function statusClass(status) {
  return STATUSES.includes(status) ? status : 'unknown';
}

function pill(status) {
  return el('span', 'pill ' + statusClass(status), status || 'unknown');
}

function time(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return isNaN(date) ? String(iso) : date.toLocaleTimeString();
}

function ago(iso) {
  if (!iso) return '';
  const seconds = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  return seconds < 90 ? seconds + ' s ago' : Math.round(seconds / 60) + ' min ago';
}

function number(value) {
  if (typeof value !== 'number') return String(value);
  if (Number.isInteger(value)) return String(value);
  return String(Math.round(value * 1000) / 1000);
}

const UNIT_SUFFIX = { ms: ' ms', us: ' µs', s: ' s', bytes: ' B', MB: ' MB', percent: ' %',
  ratio: '', per_second: ' /s', count: '' };

function replace(node, children) {
  node.replaceChildren(...children);
}

async function getJson(path) {
  const response = await fetch(path, { cache: 'no-store', headers: { Accept: 'application/json' } });
  let body = null;
  try { body = await response.json(); } catch (_) { body = null; }
  return { status: response.status, body };
}

function renderOverall(summary) {
  const badge = document.getElementById('overall');
  const meta = document.getElementById('meta');
  if (!summary || !summary.currentHealth) {
    const status = summary && summary.status === 'starting' ? 'starting' : 'unknown';
    badge.className = 'badge ' + status;
    badge.dataset.status = status;
    badge.textContent = status;
    meta.textContent = status === 'starting' ? 'waiting for the first health check' : '';
    return;
  }
  const report = summary.currentHealth;
  badge.className = 'badge ' + statusClass(report.overall);
  badge.dataset.status = report.overall;
  badge.textContent = report.overall;
  const trend = summary.recentTrend || {};
  const monitor = summary.monitor || {};
  const parts = [
    'report #' + report.sequence + ' at ' + time(report.timestamp),
    'last ' + (trend.reports || 0) + ': ' + (trend.healthyPct || 0) + '% healthy, ' +
      (trend.degradedPct || 0) + '% degraded, ' + (trend.criticalPct || 0) + '% critical',
    (summary.totalReports || 0) + ' reports',
  ];
  if (monitor.checkIntervalMs) parts.push('every ' + number(monitor.checkIntervalMs / 1000) + ' s');
  if (monitor.running === false) parts.push('MONITOR STOPPED');
  meta.textContent = parts.join(' · ');
}

function metricsCell(component) {
  const cell = el('td');
  const list = el('div', 'metrics');
  const units = component.units || {};
  for (const [name, value] of Object.entries(component.metrics || {})) {
    const item = el('span');
    item.append(el('b', null, name + ' '), document.createTextNode(number(value) + (UNIT_SUFFIX[units[name]] || '')));
    list.append(item);
  }
  cell.append(list);
  return cell;
}

function renderComponents(summary) {
  const body = document.querySelector('#components tbody');
  const system = document.getElementById('system');
  if (!summary || !summary.currentHealth) {
    replace(body, [rowMessage(8, 'waiting for the first report')]);
    system.textContent = '';
    return;
  }
  const report = summary.currentHealth;
  const rows = Object.entries(report.components || {}).map(([name, c]) => {
    const row = el('tr', 'row-' + statusClass(c.status));
    row.dataset.component = name;
    const status = el('td');
    status.append(pill(c.status));
    row.append(
      el('td', null, name),
      status,
      el('td', 'issue', c.issue || ''),
      el('td', null, c.details || c.error || ''),
      metricsCell(c),
      el('td', null, ago(c.lastCheck)),
      el('td', null, typeof c.durationMs === 'number' ? number(c.durationMs) + ' ms' : ''),
      el('td', null, c.affectsReadiness === false ? 'ignored' : 'counts'),
    );
    return row;
  });
  replace(body, rows.length ? rows : [rowMessage(8, 'no components registered')]);
  const s = report.system || {};
  const memory = s.memory || {};
  const parts = ['system ' + (s.status || 'unknown')];
  if (s.issue) parts.push(s.issue + (s.details ? ': ' + s.details : ''));
  if (memory.rssMemoryMB !== null && memory.rssMemoryMB !== undefined) parts.push('memory ' + memory.rssMemoryMB + ' / ' + memory.limitMB + ' MB');
  if (typeof s.uptime === 'number') parts.push('up ' + Math.round(s.uptime) + ' s');
  if (s.threads) parts.push(s.threads + ' threads');
  if (s.openFds) parts.push(s.openFds + ' open fds');
  parts.push('pid ' + s.pid);
  system.textContent = parts.join(' · ');
}

function rowMessage(columns, text) {
  const row = el('tr');
  const cell = el('td', 'empty', text);
  cell.colSpan = columns;
  row.append(cell);
  return row;
}

function renderTimeline(history) {
  const timeline = document.getElementById('timeline');
  const reports = (history && history.reports) || [];
  const bars = reports.map((r) => {
    const bar = el('div', statusClass(r.overall));
    const problems = (r.problems || []).map((p) => p.component + ' ' + p.status + (p.issue ? ' ' + p.issue : ''));
    bar.title = '#' + r.sequence + ' ' + time(r.timestamp) + ' ' + r.overall + (problems.length ? '\n' + problems.join('\n') : '');
    return bar;
  });
  replace(timeline, bars);
  document.getElementById('timeline-caption').textContent = reports.length ? 'last ' + reports.length + ' reports, oldest left' : 'no reports yet';
}

function renderAlerts(alerts) {
  const list = document.getElementById('alerts');
  const caption = document.getElementById('alerts-caption');
  if (!alerts || !alerts.alerts) {
    replace(list, [el('li', 'empty', 'no health monitor')]);
    caption.textContent = '';
    return;
  }
  const firing = alerts.alerts.filter((a) => a.state === 'firing').reverse();
  const items = firing.map((a) => {
    const item = el('li');
    item.dataset.alert = a.id;
    item.append(el('span', 'pill critical', a.type));
    if (a.component) item.append(document.createTextNode(' ' + a.component));
    if (a.acknowledged) item.append(el('span', 'ack', 'acknowledged'));
    item.append(el('div', null, a.message), el('div', 'when', 'fired ' + time(a.firedAt) + ' (' + ago(a.firedAt) + '), alert #' + a.id));
    return item;
  });
  replace(list, items.length ? items : [el('li', 'empty', 'none')]);
  const resolved = alerts.alerts.length - firing.length;
  caption.textContent = firing.length + ' firing, ' + resolved + ' resolved kept' +
    (alerts.droppedEvents ? ', ' + alerts.droppedEvents + ' events dropped' : '');
}

function renderReloads(config) {
  const body = document.querySelector('#reloads tbody');
  const caption = document.getElementById('reload-caption');
  if (!config || !config.history) {
    replace(body, [rowMessage(6, 'no config served')]);
    caption.textContent = '';
    return;
  }
  const stats = config.stats || {};
  caption.textContent = (stats.applied || 0) + ' applied, ' + (stats.rejected || 0) + ' rejected, ' + (stats.unchanged || 0) + ' unchanged';
  const rows = config.history.slice().reverse().map((r) => {
    const row = el('tr');
    const detail = el('td');
    for (const change of r.changes || []) {
      const shown = change.secret ? '[redacted]' : (change.old === null ? '∅' : change.old) + ' → ' + (change.new === null ? '∅' : change.new);
      detail.append(el('span', 'change', change.key + ': ' + shown));
    }
    for (const error of r.errors || []) detail.append(el('span', 'error', error.message));
    for (const s of r.subscribers || []) {
      if (s.result !== 'ok' && s.result !== 'pending') detail.append(el('span', 'error', s.name + ': ' + s.result + (s.error ? ' ' + s.error : '')));
    }
    row.append(
      el('td', null, r.attempt),
      el('td', null, time(r.at)),
      el('td', null, r.trigger),
      el('td', 'outcome-' + r.outcome, r.outcome),
      el('td', null, r.version),
      detail,
    );
    return row;
  });
  replace(body, rows.length ? rows : [rowMessage(6, 'no reloads yet')]);
}

function setConnection(ok, detail) {
  const node = document.getElementById('connection');
  node.className = ok ? 'connection' : 'connection lost';
  node.textContent = ok ? 'updated ' + new Date().toLocaleTimeString() : 'connection lost: ' + detail;
}

async function refresh() {
  try {
    const [summary, history, alerts, config] = await Promise.all([
      getJson('health/summary'), getJson('health/history'), getJson('alerts'), getJson('config/history'),
    ]);
    const summaryBody = summary.status === 404 ? null : summary.body;
    renderOverall(summaryBody);
    renderComponents(summaryBody);
    renderTimeline(history.status === 200 ? history.body : null);
    renderAlerts(alerts.status === 200 ? alerts.body : null);
    renderReloads(config.status === 200 ? config.body : null);
    setConnection(true);
  } catch (error) {
    setConnection(false, error && error.message ? error.message : String(error));
  } finally {
    setTimeout(refresh, POLL_MS);
  }
}

document.addEventListener('DOMContentLoaded', refresh);
