// tracehop/hono: a Hono middleware that traces each request by its matched route.

export type { HonoConfig, TracehopVariables } from './middleware.js'
export { tracehop } from './middleware.js'
