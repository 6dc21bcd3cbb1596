// The status report as a small self-contained page for a browser: inline CSS, no scripts, no
// external assets; per mapping a table of backends and one of their processes.
import { escapeHtml } from './stats'
import type { BackendReport, HistogramReport, ProcessReport, StatusReport } from './status-report'

const STYLE = `
:root{color-scheme:light dark;--fg:#1d2330;--muted:#5f6b7a;--line:#d9dee5;--head:#f3f5f8;--card:#fff;--bg:#f7f8fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ee;--muted:#9aa5b4;--line:#323a46;--head:#222a35;--card:#1a2029;--bg:#12161c}}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 10px}
h3{font-size:13px;margin:16px 0 6px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em}
code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.summary{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0 4px}
.tile{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:120px}
.tile b{display:block;font-size:20px;font-variant-numeric:tabular-nums}
.tile span{color:var(--muted);font-size:12px}
.note{color:var(--muted);font-size:12px;margin:0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:8px;min-width:50%}
th,td{padding:5px 10px;border-bottom:1px solid var(--line);white-space:nowrap}
th{background:var(--head);font-size:12px;font-weight:600;text-align:left;color:var(--muted)}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr:last-child td{border-bottom:0}
.zero{color:var(--muted)}
.bad{color:#c0392b;font-weight:600}
.state{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.running{background:#d8f3e1;color:#17693a}.disabled,.overloaded{background:#fcefd2;color:#8a5a00}
.died{background:#fadcd9;color:#a12a1e}.starting{background:#dbe8fb;color:#1f4f96}.stopped{background:#e5e7eb;color:#4b5563}
`

function cell (value: number, warn = false): string {
  const cls = value === 0 ? 'n zero' : warn ? 'n bad' : 'n'
  return `<td class="${cls}">${value}</td>`
}

function seconds (value: number | null): string {
  if (value === null) return '–'
  if (value < 1) return `${(value * 1000).toFixed(value < 0.01 ? 2 : 1)} ms`
  return `${value.toFixed(2)} s`
}

function latency (h: HistogramReport): string {
  return `<td class="n">${seconds(h.meanSeconds)}</td><td class="n">${h.p95Seconds === null && h.count > 0 ? '&gt; 60 s' : seconds(h.p95Seconds)}</td>`
}

export function formatUptime (totalSeconds: number): string {
  const s = Math.floor(totalSeconds)
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  const parts = d > 0 ? [`${d} d`, `${h} h`] : h > 0 ? [`${h} h`, `${m} min`] : m > 0 ? [`${m} min`, `${s % 60} s`] : [`${s % 60} s`]
  return parts.join(' ')
}

const BACKEND_HEAD = '<tr><th>backend</th><th class="n">load</th><th class="n">queued</th><th class="n">requests</th>' +
  '<th class="n">2xx</th><th class="n">3xx</th><th class="n">4xx</th><th class="n">5xx</th><th class="n">aborts</th>' +
  '<th class="n">timeouts</th><th class="n">retries</th><th class="n">respawns</th></tr>'

function backendName (b: BackendReport): string {
  const name = b.backend === '' ? '<i>no backend</i>' : `<b>${escapeHtml(b.backend)}</b>`
  return `<td>${name}${b.address === null || b.address === b.backend ? '' : `<br><code class="zero">${escapeHtml(b.address)}</code>`}</td>`
}

function backendRow (b: BackendReport): string {
  const timeouts = b.timeouts.connect + b.timeouts.read + b.timeouts.write + b.timeouts.queue
  return '<tr>' + backendName(b) +
    cell(b.load) + cell(b.queueDepth) + cell(b.requests) +
    cell(b.responses['2xx']) + cell(b.responses['3xx']) + cell(b.responses['4xx']) + cell(b.responses['5xx'], true) +
    cell(b.aborts) + cell(timeouts, true) + cell(b.retries) + cell(b.respawns, true) +
    '</tr>'
}

const LATENCY_HEAD = '<tr><th>backend</th><th class="n">first byte mean</th><th class="n">p95 &le;</th>' +
  '<th class="n">total mean</th><th class="n">p95 &le;</th><th class="n">waited for a slot</th><th class="n">wait mean</th></tr>'

function latencyRow (b: BackendReport): string {
  return '<tr>' + `<td><b>${b.backend === '' ? '<i>no backend</i>' : escapeHtml(b.backend)}</b></td>` +
    latency(b.firstByte) + latency(b.total) + cell(b.queueWait.count) + `<td class="n">${seconds(b.queueWait.meanSeconds)}</td>` +
    '</tr>'
}

const PROCESS_HEAD = '<tr><th>backend</th><th class="n">process</th><th class="n">pid</th><th>address</th><th>state</th>' +
  '<th class="n">load</th><th class="n">connected</th><th class="n">died</th><th class="n">overloaded</th>' +
  '<th class="n">disabled</th><th class="n">respawns</th><th class="n">connections opened</th><th class="n">connection retries</th><th class="n">dirty closed</th>' +
  '<th class="n">limit</th><th class="n">capacity</th></tr>'

function processRow (backend: string, p: ProcessReport): string {
  return '<tr>' +
    `<td>${escapeHtml(backend)}</td><td class="n">${p.id}</td><td class="n">${p.pid ?? '–'}</td>` +
    `<td><code>${escapeHtml(p.address)}</code>${p.isLocal ? '' : ' <span class="zero">(remote)</span>'}</td>` +
    `<td><span class="state ${p.state}">${p.state}</span></td>` +
    cell(p.load) + cell(p.counters.connected) + cell(p.counters.died, true) + cell(p.counters.overloaded, true) +
    cell(p.counters.disabled, true) + cell(p.respawns, true) + cell(p.connectionsOpened) + cell(p.connectionRetries) + cell(p.dirtyClosed, true) +
    `<td class="n">${p.concurrencyLimit ?? '–'}</td><td class="n">${p.capacity ?? '–'}</td>` +
    '</tr>'
}

export function statusHtmlPage (report: StatusReport): string {
  const totals = { responses: 0, errors: 0 }
  for (const m of report.mappings) {
    for (const b of m.backends) {
      totals.responses += b.requests
      totals.errors += b.responses['5xx']
    }
  }
  const tile = (value: string, label: string): string => `<div class="tile"><b>${value}</b><span>${label}</span></div>`
  const sections = report.mappings.map((m) => {
    const processes = m.backends.flatMap((b) => b.processes.map((p) => processRow(b.backend, p)))
    return [
      `<h2>Mapping <code>${escapeHtml(m.mapping)}</code></h2>`,
      '<h3>Requests</h3>',
      `<div class="scroll"><table>${BACKEND_HEAD}${m.backends.map(backendRow).join('')}</table></div>`,
      '<h3>Latency</h3>',
      `<div class="scroll"><table>${LATENCY_HEAD}${m.backends.map(latencyRow).join('')}</table></div>`,
      processes.length === 0 ? '' : `<h3>Processes</h3><div class="scroll"><table>${PROCESS_HEAD}${processes.join('')}</table></div>`
    ].join('\n')
  })
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>FastCGI status</title><style>${STYLE}</style></head><body>`,
    '<h1>FastCGI status</h1>',
    `<p class="note">up since ${escapeHtml(report.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))} · also as <a href="?format=json">JSON</a> and <a href="?format=prometheus">Prometheus</a></p>`,
    '<div class="summary">',
    tile(formatUptime(report.uptimeSeconds), 'uptime'),
    tile(String(report.requests), 'requests to backends'),
    tile(String(report.activeRequests), 'in flight'),
    tile(String(totals.responses), 'requests answered or aborted'),
    tile(String(totals.errors), '5xx responses'),
    '</div>',
    ...sections,
    '<p class="note" style="margin-top:24px">p95 columns are bucket bounds of the latency histograms (resolution of the buckets).</p>',
    '</body></html>',
    ''
  ].join('\n')
}
