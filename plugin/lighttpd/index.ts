// `fastify-fastcgi/lighttpd`: import a lighttpd mod_fastcgi configuration as plugin options.
export { parseLighttpdConfig } from './parse-config'
export type { LighttpdImport, ConfigError, ImportedOption } from './parse-config'
export { parseLighttpdFile, parseLighttpdText } from './read-config'
export type { LighttpdFileOptions } from './read-config'
