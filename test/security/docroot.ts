// A document root built per test in a temp dir, with PHP files that say who ran them, files
// and links that must never run, and a directory outside the document root:
//   <tmp>/outside.php, <tmp>/outside/secret.php     OUTSIDE-EXECUTED (never reachable)
//   <tmp>/www/                                       the document root
//     env.php, hello.php                             the normal scripts
//     x.php/y.txt, x.php/y.php                       `.php` as a directory name
//     uploads/pic.jpg                                PHP code in an "image"
//     evil.<look-alike extensions>                   PHP code under names that only look like .php
//     link-out.php -> <tmp>/outside.php              a symlink out of the document root
//     linkdir -> <tmp>/outside                       a directory symlink out of it
//     link-in.php -> <tmp>/www/hello.php             a symlink that stays inside (allowed)
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PHP_FIXTURES } from '../helpers/php'
import { makeTempDir } from '../helpers/tmp'
import type { TeardownHost } from '../helpers/tmp'

export const EXECUTED = 'EXECUTED-AS-PHP'
export const OUTSIDE = 'OUTSIDE-EXECUTED'

/** Names that look like `.php` to a person but are not `.php` (Cyrillic р, Greek ρ, fullwidth, case, zero-width, trailing dot/space). */
export const LOOK_ALIKES = [
  'evil.\u0440hp', // Cyrillic er
  'evil.ph\u0440', // Cyrillic er at the end
  'evil.\u03c1hp', // Greek rho
  'evil.\uff50\uff48\uff50', // fullwidth p h p
  'evil.PHP',
  'evil.Php',
  'evil.php\u200b', // zero-width space
  'evil.php.',
  'evil.php ',
  'evil.php\u00a0', // no-break space
  'evil.p\u0068\u0307p' // h with a combining dot above
]

export interface SecurityDocroot {
  /** the temp dir holding www/ and the outside files */
  base: string
  /** the document root */
  root: string
}

const php = (marker: string): string => `<?php header('Content-Type: text/plain'); echo "${marker} " . __FILE__ . "\\n";\n`

export function makeSecurityDocroot (t: TeardownHost): SecurityDocroot {
  const base = makeTempDir(t, 'ffcgi-sec-')
  const root = join(base, 'www')
  mkdirSync(root)
  copyFileSync(join(PHP_FIXTURES, 'env.php'), join(root, 'env.php'))
  copyFileSync(join(PHP_FIXTURES, 'hello.php'), join(root, 'hello.php'))
  writeFileSync(join(base, 'outside.php'), php(OUTSIDE))
  mkdirSync(join(base, 'outside'))
  writeFileSync(join(base, 'outside', 'secret.php'), php(OUTSIDE))
  mkdirSync(join(root, 'x.php'))
  writeFileSync(join(root, 'x.php', 'y.txt'), php(EXECUTED))
  writeFileSync(join(root, 'x.php', 'y.php'), php('NESTED-PHP'))
  mkdirSync(join(root, 'uploads'))
  writeFileSync(join(root, 'uploads', 'pic.jpg'), php(EXECUTED))
  for (const name of LOOK_ALIKES) writeFileSync(join(root, name), php(EXECUTED))
  symlinkSync(join(base, 'outside.php'), join(root, 'link-out.php'))
  symlinkSync(join(base, 'outside'), join(root, 'linkdir'))
  symlinkSync(join(root, 'hello.php'), join(root, 'link-in.php'))
  return { base, root }
}
