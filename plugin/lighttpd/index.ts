// `fastify-fastcgi/lighttpd`: import a lighttpd mod_fastcgi configuration as plugin options.
export { parseLighttpdConfig } from './parse-config'
export type { LighttpdImport, ConfigError } from './parse-config'
