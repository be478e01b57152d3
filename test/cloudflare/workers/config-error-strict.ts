// The same Worker with the strict behaviour: a config function that throws fails the request.
import { instrument } from '../../../adapters/cloudflare/index.js'
import { config, handler } from './config-error.js'

export default instrument(handler, config, { onConfigError: 'throw' })
