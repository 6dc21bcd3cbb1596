// A copy of Debian's own lighttpd configuration (the lighttpd package installed on the test
// machine) laid out under a temp root as /etc/lighttpd, with conf-enabled/ holding
// 10-fastcgi.conf and 15-fastcgi-php.conf as links into conf-available/, the way
// `lighty-enable-mod fastcgi fastcgi-php` leaves them. Imported with `root` set to the temp
// root, lighttpd.conf's absolute `include "/etc/lighttpd/conf-enabled/*.conf"` reads the copy.
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { makeTempDir } from '../helpers/tmp'
import type { TeardownHost } from '../helpers/tmp'

const ETC = '/etc/lighttpd'
const ENABLED = ['10-fastcgi.conf', '15-fastcgi-php.conf']

/** Why the copy cannot be made here, or false when Debian's files are installed. */
export function debianConfigMissing (): string | false {
  for (const file of ['lighttpd.conf', ...ENABLED.map((f) => `conf-available/${f}`)]) {
    if (!existsSync(join(ETC, file))) return `${join(ETC, file)} is not installed (apt-get install lighttpd)`
  }
  return false
}

export interface DebianCopy {
  /** the temp root (pass as `root`) */
  root: string
  /** root + /etc/lighttpd/lighttpd.conf */
  main: string
  /** root + /etc/lighttpd/conf-enabled/15-fastcgi-php.conf */
  php: string
  /** 1-based line of each include_shell in lighttpd.conf, read from the installed file */
  includeShellLines: number[]
  /** 1-based line of the first line of lighttpd.conf that starts with `setting` */
  lineOf (setting: string): number
}

export function copyDebianConfig (t: TeardownHost): DebianCopy {
  const root = makeTempDir(t, 'ffcgi-debian-')
  const etc = join(root, 'etc', 'lighttpd')
  mkdirSync(join(etc, 'conf-available'), { recursive: true })
  mkdirSync(join(etc, 'conf-enabled'))
  copyFileSync(join(ETC, 'lighttpd.conf'), join(etc, 'lighttpd.conf'))
  for (const file of ENABLED) {
    copyFileSync(join(ETC, 'conf-available', file), join(etc, 'conf-available', file))
    symlinkSync(join('..', 'conf-available', file), join(etc, 'conf-enabled', file))
  }
  const text = readFileSync(join(etc, 'lighttpd.conf'), 'utf8').split('\n')
  const includeShellLines = text.flatMap((line, i) => /^\s*include_shell\b/.test(line) ? [i + 1] : [])
  const lineOf = (setting: string): number => text.findIndex((line) => line.trimStart().startsWith(setting)) + 1
  return { root, main: join(etc, 'lighttpd.conf'), php: join(etc, 'conf-enabled', '15-fastcgi-php.conf'), includeShellLines, lineOf }
}
