import t from 'tap'
import { childCommand, childEnvironment, parseBinPath } from '../../plugin/pool/child-env'

t.test('binPath strings split on runs of spaces and tabs, arrays are kept', async (t) => {
  t.same(parseBinPath('/usr/bin/php-cgi -c /etc/php.ini'), ['/usr/bin/php-cgi', '-c', '/etc/php.ini'])
  t.same(parseBinPath(' /a\t\t-x  y '), ['/a', '-x', 'y'], 'no empty arguments (lighttpd would make some)')
  t.same(parseBinPath(['/a b/c', '-d x']), ['/a b/c', '-d x'], 'an array may hold spaces')
})

t.test('argv[0] is resolved to an absolute path; cwd is its directory', async (t) => {
  t.same(childCommand(['/usr/bin/php-cgi', '-q']), { file: '/usr/bin/php-cgi', args: ['-q'], cwd: '/usr/bin' })
  t.equal(childCommand(['bin/app']).file, `${process.cwd()}/bin/app`, 'relative to our cwd, not searched on PATH')
  t.throws(() => childCommand([]), /empty/)
})

t.test('environment rules of lighttpd §7.2', async (t) => {
  const parent = { PATH: '/bin', HOME: '/root', SECRET: 's' }
  t.same(childEnvironment(parent, undefined, undefined), { PATH: '/bin', HOME: '/root', SECRET: 's', PHP_FCGI_CHILDREN: '1' })
  t.same(childEnvironment(parent, ['PATH', 'MISSING'], { A: '1' }), { PATH: '/bin', A: '1', PHP_FCGI_CHILDREN: '1' })
  t.same(childEnvironment(parent, [], undefined), { PHP_FCGI_CHILDREN: '1' }, 'an empty copy list copies nothing')
  t.same(childEnvironment(parent, ['PATH'], { PATH: '/opt', PHP_FCGI_CHILDREN: '8' }), { PATH: '/opt', PHP_FCGI_CHILDREN: '8' })
})
