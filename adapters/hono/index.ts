// tracehop/hono: a Hono middleware that traces each request by its matched route.
export { tracehop } from './middleware.js'
export type { HonoConfig, TracehopVariables } from './middleware.js'
