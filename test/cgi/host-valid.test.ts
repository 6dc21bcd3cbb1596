// Host values that name a host[:port] pass; anything else would carry path or URL syntax into
// HTTP_HOST and SERVER_NAME, and is refused.
import t from 'tap'
import { isValidHost } from '../../plugin/cgi/host'

t.test('host names, IPv4 and IPv6 literals, with or without a port', async (t) => {
  for (const host of [
    'example.com', 'EXAMPLE.com', 'example.com:8080', 'localhost', 'localhost:', 'a', 'x-y.z', 'a-.b',
    'example.com.', 'example.com.:80', '3com.net', 'php_app', 'my_service.internal:9000', '127.0.0.1',
    '127.0.0.1:65535', '[::1]', '[::1]:8080', '[2001:db8::1]', '[::ffff:127.0.0.1]', 'xn--bcher-kva.example'
  ]) t.ok(isValidHost(host), host)
})

t.test('paths, spaces, user info, stray brackets and bad ports are not hosts', async (t) => {
  for (const host of [
    '', '../../etc', '..', '.', 'a..b', '.example.com', 'example.com/evil', 'a b', 'a\tb', 'user@host',
    'evil.com@good.com', 'host?x', 'host#x', 'a%2fb', '-lead.com', 'x.-y.com', 'caf\u00c3\u00a9.com',
    'example.com:80:80', 'example.com:http', 'example.com:65536', 'example.com:123456', ':80',
    '[::1', '[]', '[::1]x', '[::1]:x', '[::g]', '[1:2:3:4:5:6:7:8:9]', '1.2.3', '1.2.3.4.5', '12345',
    'a.123', 'host\\evil', 'a,b', "a'b", 'a"b', 'a;b', 'a<b'
  ]) t.notOk(isValidHost(host), JSON.stringify(host))
})
