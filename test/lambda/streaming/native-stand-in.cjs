// aws-lambda-ric 3.x loads a native client (rapid-client.node: aws-lambda-cpp over libcurl)
// for the BUFFERED calls next/done/error. Its install script builds it with cmake and
// autoreconf, which this machine and CI do not run, so it is absent. Streaming invocations
// never use it: `next` goes through ric's own HTTP client (AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1)
// and the streamed response through ric's ResponseStream. This stands in for the module
// with the same Runtime API calls over node:http, so ric's JS runtime loop can be loaded.
const Module = require('node:module')
const http = require('node:http')

const [host, port] = String(process.env.AWS_LAMBDA_RUNTIME_API).split(':')
function post(path, body) {
  const req = http.request({ host, port: Number(port), path, method: 'POST', headers: { 'content-type': 'application/json' } })
  req.on('error', () => {})
  req.end(body)
}
const standIn = {
  next() {
    throw new Error('the native next() is not used: set AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1=true')
  },
  done(id, body) {
    post(`/2018-06-01/runtime/invocation/${id}/response`, body)
  },
  error(id, body) {
    post(`/2018-06-01/runtime/invocation/${id}/error`, body)
  },
}
const load = Module._load
Module._load = function (request, parent, isMain) {
  if (request === './rapid-client.node') return standIn
  return load.call(this, request, parent, isMain)
}
