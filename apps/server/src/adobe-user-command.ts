/**
 * `node apps/server/dist/main.js adobe-user <username>`: prints the `adobeAuth.users` line for a
 * user. The password comes from stdin, never argv, so it stays out of shell history and `ps`; at a
 * terminal it is read without echo.
 */
import { isAuthConfigError, isSafeUsername, makeAdobeUserEntry } from '@org/auth';

/** FFmpeg keeps this many characters of a password (a 50-byte buffer); longer ones never log in from it. */
const FFMPEG_PASSWORD_CHARS = 49;

const USAGE = 'usage: main.js adobe-user <username>   (the password is read from stdin)';

/** Reads a line at a terminal without echoing it. */
function readHidden(input: NodeJS.ReadStream, prompt: string): Promise<string> {
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let line = '';
    const done = (err?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new Error('interrupted'));
        if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
        else line += ch;
      }
    };
    input.on('data', onData);
  });
}

/** Reads all of a piped stdin; the password is its first line. */
async function readPiped(input: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of input) text += String(chunk);
  return text.split(/\r?\n/, 1)[0] ?? '';
}

/** Runs the command; returns the exit status (0 printed, 2 usage or bad input). */
export async function runAdobeUserCommand(args: readonly string[], input = process.stdin): Promise<number> {
  const [username, ...extra] = args;
  if (username === undefined || extra.length > 0 || username.startsWith('-')) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (!isSafeUsername(username)) {
    process.stderr.write(`error: ${JSON.stringify(username)} is not a valid username (1-64 of A-Z a-z 0-9 _ -)\n`);
    return 2;
  }
  const password = input.isTTY ? await readHidden(input, `password for ${username}: `) : await readPiped(input);
  if (password.length > FFMPEG_PASSWORD_CHARS) {
    process.stderr.write(`warning: FFmpeg sends at most ${FFMPEG_PASSWORD_CHARS} characters of a password\n`);
  }
  try {
    const entry = makeAdobeUserEntry(username, password);
    process.stdout.write(`${JSON.stringify(username)}: ${JSON.stringify(entry)}\n`);
    return 0;
  } catch (err) {
    if (!isAuthConfigError(err)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    return 2;
  }
}
