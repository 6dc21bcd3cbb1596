// requestBuffering: a boolean, true by default, and the same on every host of one mapping
// (the body is read, or not, before a host is chosen).
import t from 'tap'
import { normalizeOptions } from '../../plugin/fastify/options'

const docroot = { documentRoot: __dirname }

t.test('default true; false kept', async (t) => {
  const config = normalizeOptions({ ...docroot, server: { '.php': [{ socket: '/run/a.sock' }], '/up/': [{ socket: '/run/b.sock', requestBuffering: false }] } })
  t.equal(config.mappings[0]?.hosts[0]?.requestBuffering, true)
  t.equal(config.mappings[1]?.hosts[0]?.requestBuffering, false)
})

t.test('not a boolean', async (t) => {
  t.throws(() => normalizeOptions({ ...docroot, server: { '.php': [{ socket: '/run/a.sock', requestBuffering: 'off' }] } }), {
    code: 'FST_FASTCGI_INVALID_OPTION',
    message: "Invalid fastify-fastcgi option: server['.php'][0].requestBuffering must be true or false, got \"off\""
  })
})

t.test('hosts of one mapping disagree', async (t) => {
  t.throws(() => normalizeOptions({ ...docroot, server: { '.php': { a: { socket: '/run/a.sock' }, b: { socket: '/run/b.sock', requestBuffering: false } } } }), {
    code: 'FST_FASTCGI_INVALID_OPTION',
    message: /server\['\.php'\]\.b\.requestBuffering is false but server\['\.php'\]\.a buffers \(the default\): expected the same requestBuffering on every host of server\['\.php'\]/
  })
})
