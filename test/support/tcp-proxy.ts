import net from 'node:net';

/**
 * A TCP proxy on loopback in front of a real server (Redis in the tests) whose link can be cut: open
 * connections are dropped and the port stops listening (connections are refused) until it is restored
 * on the same port, as when the server goes away and comes back.
 */
export class CuttableProxy {
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server;

  private constructor(
    private readonly target: { host: string; port: number },
    readonly port: number,
  ) {
    this.server = this.makeServer();
  }

  static async start(target: { host: string; port: number }): Promise<CuttableProxy> {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const proxy = new CuttableProxy(target, port);
    await proxy.listen();
    return proxy;
  }

  /** Drops every connection and refuses new ones. */
  async cut(): Promise<void> {
    const closed = new Promise((resolve) => this.server.close(resolve));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  restore(): Promise<void> {
    this.server = this.makeServer();
    return this.listen();
  }

  close(): Promise<void> {
    return this.server.listening ? this.cut() : Promise.resolve();
  }

  private listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
  }

  private makeServer(): net.Server {
    return net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }
}
