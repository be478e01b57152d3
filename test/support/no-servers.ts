// Setup file of the `unit` vitest project: a unit test starts no runtime and binds no port.
// A test that listens (an HTTP receiver, workerd, edge-runtime, a UDP daemon stand-in) fails
// here with a pointer to the `runtime` project (vitest.config.ts), so the split stays true.
import { Socket as UdpSocket } from 'node:dgram'
import { Server } from 'node:net'

const refuse = (what: string) =>
  function refused(): never {
    throw new Error(`${what} in a unit test: list this file under RUNTIME in vitest.config.ts`)
  }

Server.prototype.listen = refuse('a server listens')
UdpSocket.prototype.bind = refuse('a UDP socket binds')
