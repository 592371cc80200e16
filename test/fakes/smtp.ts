import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A fake SMTP server at the network boundary, for tests of email delivery: it listens on
 * 127.0.0.1 at a random port and speaks real SMTP (RFC 5321) line by line: a 220 greeting,
 * EHLO/HELO, AUTH PLAIN and LOGIN (when it has users), MAIL FROM, RCPT TO, DATA with dot-stuffing,
 * RSET, NOOP and QUIT. It offers no STARTTLS, so a client that upgrades only when offered stays in
 * plain text. Accepted messages are parsed (headers unfolded, quoted-printable and base64 bodies
 * decoded) so a test can assert what a person would read.
 *
 *   const smtp = await startSmtpServer({ users: { mailer: 's3cret' } });
 *   smtp.failNext('RCPT', 451, '4.3.0 Try again later');   // one-shot, at that command
 *   // ... point the sender at 127.0.0.1:smtp.port ...
 *   expect(smtp.messages[0]!.subject).toBe('Hello');
 *   await smtp.close();
 */
export type SmtpStage = 'MAIL' | 'RCPT' | 'DATA' | 'MESSAGE';

export interface ReceivedMail {
  /** The envelope, as MAIL FROM and RCPT TO gave it. */
  from: string;
  to: string[];
  /** The user who authenticated on the session, or null. */
  user: string | null;
  headers: Record<string, string>;
  subject: string;
  /** The decoded text of the body. */
  text: string;
  raw: string;
}

export interface FakeSmtp {
  port: number;
  messages: ReceivedMail[];
  /** Every command received, in order, across sessions (AUTH payloads shown as `AUTH <mechanism>`). */
  commands: string[];
  /** Connections accepted so far. */
  sessions(): number;
  /** The next time the stage is reached, reply with this code and text instead of accepting. */
  failNext(stage: SmtpStage, code: number, text: string): void;
  close(): Promise<void>;
}

export async function startSmtpServer(options: { users?: Record<string, string> } = {}): Promise<FakeSmtp> {
  const users = options.users ?? {};
  const messages: ReceivedMail[] = [];
  const commands: string[] = [];
  const failures: { stage: SmtpStage; code: number; text: string }[] = [];
  const sockets = new Set<Socket>();
  let sessions = 0;

  const failure = (stage: SmtpStage): string | null => {
    const i = failures.findIndex((f) => f.stage === stage);
    if (i === -1) return null;
    const [f] = failures.splice(i, 1);
    return `${f!.code} ${f!.text}`;
  };

  const server = createServer((socket) => {
    sessions++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const reply = (line: string): void => void socket.write(`${line}\r\n`);
    let buffer = '';
    let user: string | null = null;
    let from: string | null = null;
    let to: string[] = [];
    let data: string[] | null = null;
    /** A multi-step AUTH in progress: what the next line answers. */
    let auth: { mechanism: 'PLAIN' } | { mechanism: 'LOGIN'; user: string | null } | null = null;

    const login = (name: string, password: string): void => {
      if (users[name] !== undefined && users[name] === password) {
        user = name;
        reply('235 2.7.0 Authentication successful');
      } else {
        reply('535 5.7.8 Authentication credentials invalid');
      }
    };
    const plain = (payload: string): void => {
      const [, name = '', password = ''] = Buffer.from(payload, 'base64').toString('utf8').split('\0');
      login(name, password);
    };

    const line = (text: string): void => {
      if (data !== null) {
        if (text !== '.') return void data.push(text.startsWith('.') ? text.slice(1) : text);
        const raw = data.join('\r\n');
        data = null;
        const refused = failure('MESSAGE');
        if (refused) return reply(refused);
        messages.push({ from: from!, to, user, ...parse(raw), raw });
        from = null;
        to = [];
        return reply('250 2.0.0 Ok: queued');
      }
      if (auth !== null) {
        const step = auth;
        if (step.mechanism === 'PLAIN') {
          auth = null;
          return plain(text);
        }
        if (step.user === null) {
          auth = { mechanism: 'LOGIN', user: Buffer.from(text, 'base64').toString('utf8') };
          return reply('334 UGFzc3dvcmQ6');
        }
        auth = null;
        return login(step.user, Buffer.from(text, 'base64').toString('utf8'));
      }
      const [verb = '', ...rest] = text.split(' ');
      const command = verb.toUpperCase();
      const argument = rest.join(' ');
      commands.push(command === 'AUTH' ? `AUTH ${rest[0]?.toUpperCase() ?? ''}` : text);
      switch (command) {
        case 'EHLO':
          return reply(['250-fake-smtp greets you', '250-8BITMIME', ...(Object.keys(users).length > 0 ? ['250-AUTH PLAIN LOGIN'] : []), '250 SIZE 10485760'].join('\r\n'));
        case 'HELO':
          return reply('250 fake-smtp');
        case 'AUTH': {
          const mechanism = rest[0]?.toUpperCase();
          if (mechanism === 'PLAIN') {
            if (rest[1]) return plain(rest[1]);
            auth = { mechanism: 'PLAIN' };
            return reply('334 ');
          }
          if (mechanism === 'LOGIN') {
            if (rest[1]) {
              auth = { mechanism: 'LOGIN', user: Buffer.from(rest[1], 'base64').toString('utf8') };
              return reply('334 UGFzc3dvcmQ6');
            }
            auth = { mechanism: 'LOGIN', user: null };
            return reply('334 VXNlcm5hbWU6');
          }
          return reply('504 5.5.4 Unrecognized authentication type');
        }
        case 'MAIL': {
          if (Object.keys(users).length > 0 && user === null) return reply('530 5.7.0 Authentication required');
          const refused = failure('MAIL');
          if (refused) return reply(refused);
          from = /^FROM:\s*<([^>]*)>/i.exec(argument)?.[1] ?? '';
          to = [];
          return reply('250 2.1.0 Ok');
        }
        case 'RCPT': {
          if (from === null) return reply('503 5.5.1 Error: need MAIL command');
          const refused = failure('RCPT');
          if (refused) return reply(refused);
          to.push(/^TO:\s*<([^>]*)>/i.exec(argument)?.[1] ?? '');
          return reply('250 2.1.5 Ok');
        }
        case 'DATA': {
          if (to.length === 0) return reply('503 5.5.1 Error: need RCPT command');
          const refused = failure('DATA');
          if (refused) return reply(refused);
          data = [];
          return reply('354 End data with <CR><LF>.<CR><LF>');
        }
        case 'RSET':
          from = null;
          to = [];
          return reply('250 2.0.0 Ok');
        case 'NOOP':
          return reply('250 2.0.0 Ok');
        case 'QUIT':
          reply('221 2.0.0 Bye');
          return void socket.end();
        default:
          return reply('502 5.5.2 Error: command not recognized');
      }
    };

    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (let end = buffer.indexOf('\r\n'); end !== -1; end = buffer.indexOf('\r\n')) {
        const text = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        line(Buffer.from(text, 'latin1').toString('utf8'));
      }
    });
    reply('220 fake-smtp ESMTP ready');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');

  return {
    port: (server.address() as AddressInfo).port,
    messages,
    commands,
    sessions: () => sessions,
    failNext(stage, code, text) {
      failures.push({ stage, code, text });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Headers (unfolded, names lower-cased, RFC 2047 words decoded) and the decoded body text. */
function parse(raw: string): { headers: Record<string, string>; subject: string; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? '' : raw.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const field of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = field.indexOf(':');
    if (colon > 0) headers[field.slice(0, colon).trim().toLowerCase()] = decodeWords(field.slice(colon + 1).trim());
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const text =
    encoding === 'quoted-printable' ? quotedPrintable(body) : encoding === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') : body;
  return { headers, subject: headers.subject ?? '', text };
}

function quotedPrintable(text: string): string {
  const bytes: number[] = [];
  const source = text.replace(/=\r\n/g, '');
  for (let i = 0; i < source.length; i++) {
    const hex = source[i] === '=' ? /^[0-9A-Fa-f]{2}$/.exec(source.slice(i + 1, i + 3)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(source[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_w, _charset: string, kind: string, text: string) =>
    kind.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : quotedPrintable(text.replace(/_/g, ' ')),
  );
}
