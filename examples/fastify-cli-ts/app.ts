import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import fastcgi from 'fastify-fastcgi'

export default async function app (fastify: FastifyInstance, _opts: object): Promise<void> {
  await fastify.register(rateLimit, { global: false })   // only routes with config.rateLimit
  await fastify.register(fastcgi, {
    documentRoot: join(__dirname, '..', 'public'),
    indexFiles: ['index.php'],
    server: { '.php': [{ binPath: '/usr/bin/php-cgi', socket: join(__dirname, '..', 'php.sock'), maxProcs: 1 }] },
    config: { rateLimit: { max: 5, timeWindow: '1 minute' } },   // 429 before PHP is asked
    statusUrl: '/fastcgi-status',                                // ?format=prometheus for metrics
  })
}
