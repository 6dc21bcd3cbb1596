'use strict'
// Counts the clients a gateway never answers. wrk cannot: a request still waiting when its run
// ends is counted nowhere, and a gateway that pins a prefork pool's workers with kept
// connections leaves a few requests (or a whole process's) waiting for good while the rest are
// served fast. Here CLIENTS clients each send requests one after another on a kept connection
// for SECONDS, and each counts what it got; a client that got nothing was stuck the whole time.
//   node bench/stuck-clients.js PORT [PATH=/hello.php] [CLIENTS=40] [SECONDS=5]
// Prints one JSON line: clients, stuck (answered nothing), min/median/max answered, total.
// Loopback only; every request has a deadline, and the run ends by itself.
const http = require('node:http')

const port = Number(process.argv[2])
const urlPath = process.argv[3] ?? '/hello.php'
const clients = Number(process.argv[4] ?? 40)
const seconds = Number(process.argv[5] ?? 5)
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: node bench/stuck-clients.js PORT [PATH] [CLIENTS] [SECONDS]\n')
  process.exit(2)
}
const until = Date.now() + seconds * 1000

function once (agent) {
  return new Promise((resolve) => {
    const left = Math.max(1, until - Date.now())
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent, timeout: left + 1000 }, (res) => {
      res.resume()
      res.once('end', () => resolve(res.statusCode === 200))
      res.once('error', () => resolve(false))
    })
    req.once('timeout', () => { req.destroy(); resolve(false) })
    req.once('error', () => resolve(false))
  })
}

async function client () {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  let answered = 0
  while (Date.now() < until && await once(agent)) answered++
  agent.destroy()
  return answered
}

Promise.all(Array.from({ length: clients }, client)).then((counts) => {
  counts.sort((a, b) => a - b)
  process.stdout.write(JSON.stringify({
    clients: counts.length,
    stuck: counts.filter((n) => n === 0).length,
    min: counts[0],
    median: counts[Math.floor(counts.length / 2)],
    max: counts[counts.length - 1],
    total: counts.reduce((a, b) => a + b, 0)
  }) + '\n')
})
