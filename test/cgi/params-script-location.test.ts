import t from 'tap'
import { joinPath, resolveScriptLocation } from '../../plugin/cgi/params'

t.test('join puts exactly one / between the parts', async (t) => {
  t.equal(joinPath('/srv/www', '/index.php'), '/srv/www/index.php')
  t.equal(joinPath('/srv/www/', '/index.php'), '/srv/www/index.php')
  t.equal(joinPath('/srv/www', 'index.php'), '/srv/www/index.php')
  t.equal(joinPath('/srv/www/', 'index.php'), '/srv/www/index.php')
  t.equal(joinPath('/srv/www', '/'), '/srv/www/')
  t.equal(joinPath('/', '/x'), '/x')
})

t.test('join appends / when the second part is empty (lighttpd quirk)', async (t) => {
  t.equal(joinPath('/srv/www/index.php', ''), '/srv/www/index.php/')
  t.equal(joinPath('/srv/www/', ''), '/srv/www/')
})

t.test('docroot overrides DOCUMENT_ROOT and the base of SCRIPT_FILENAME and PATH_TRANSLATED', async (t) => {
  t.same(resolveScriptLocation({ scriptName: '/a.php', pathInfo: '/p', documentRoot: '/srv/www', docroot: '/remote', brokenScriptfilename: false }), {
    scriptName: '/a.php', pathInfo: '/p', scriptFilename: '/remote/a.php', documentRoot: '/remote', pathTranslated: '/remote/p'
  })
})

t.test('broken-scriptfilename is ignored once docroot is set', async (t) => {
  const loc = resolveScriptLocation({ scriptName: '/a.php', pathInfo: '/p', documentRoot: '/srv/www', docroot: '/remote', brokenScriptfilename: true })
  t.equal(loc.scriptFilename, '/remote/a.php')
})

t.test('an empty docroot counts as unset', async (t) => {
  const loc = resolveScriptLocation({ scriptName: '/a.php', pathInfo: '', documentRoot: '/srv/www', docroot: '', brokenScriptfilename: false })
  t.equal(loc.scriptFilename, '/srv/www/a.php')
  t.equal(loc.documentRoot, '/srv/www')
})

t.test('DOCUMENT_ROOT is the document root as configured, trailing slash included', async (t) => {
  const loc = resolveScriptLocation({ scriptName: '/a.php', pathInfo: '', documentRoot: '/srv/www/', brokenScriptfilename: false })
  t.equal(loc.documentRoot, '/srv/www/')
  t.equal(loc.scriptFilename, '/srv/www/a.php')
})

t.test('no PATH_INFO, no PATH_TRANSLATED', async (t) => {
  const loc = resolveScriptLocation({ scriptName: '/a.php', pathInfo: '', documentRoot: '/srv/www', brokenScriptfilename: false })
  t.notOk('pathTranslated' in loc)
})
