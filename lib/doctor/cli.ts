#!/usr/bin/env node
/**
 * `npx leapcraft-doctor`: a first-contact check of the Leapcraft API with a real key
 * (lib/doctor/). Prints a redacted report, ready to paste into a bug report, to stdout.
 *
 * The key comes from LEAPCRAFT_API_KEY, or from a prompt that does not echo it when stdin is a
 * terminal; never from an argument, since command lines are visible to other users (ps) and kept
 * in shell histories. Exit codes: 0 the check ran; 1 the key was refused or the API gave no usable
 * answer (the report is printed all the same); 2 a usage error.
 */
import { Writable } from 'node:stream';
import * as readline from 'node:readline';
import { DEFAULT_BASE_URL } from '../api/client';
import { isLeapcraftError } from '../api/errors';
import { validateBaseUrl } from '../api/validation';
import { runDoctor } from './probe';
import { formatDoctorReport } from './report';
import { DOCTOR_MAX_REQUESTS } from './types';

const NAME = 'leapcraft-doctor';

export const USAGE = `Usage: ${NAME} [--base-url <url>] [--json]

Checks the Leapcraft API with your key in at most ${DOCTOR_MAX_REQUESTS} read-only requests and prints
which reading of each point the API docs leave open the server speaks (in the simulator's dialect
names), the shapes of its answers (field names and types, no values), timings and any surprise.
The key, tokens, names and ids are redacted: the report can go into a bug report as it is.

The API key is read from the LEAPCRAFT_API_KEY environment variable, or asked for (not echoed)
when run in a terminal. It is never taken as an argument.

Options:
  --base-url <url>   the API (default: LEAPCRAFT_BASE_URL, else ${DEFAULT_BASE_URL});
                     https, or plain http to a loopback host only
  --json             print the report as JSON instead of text
  -h, --help         this text
`;

export type CliArgs =
  | { kind: 'run'; baseUrl?: string; json: boolean }
  | { kind: 'help' }
  | { kind: 'error'; message: string };

const KEY_ARGUMENT =
  'the API key is not taken as an argument: command lines are visible to other users (ps) and kept in shell history. ' +
  'Set LEAPCRAFT_API_KEY, or run in a terminal to be asked for it';

/** The command line; an argument that could be a key is refused without being echoed. */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): CliArgs {
  let baseUrl = env.LEAPCRAFT_BASE_URL && env.LEAPCRAFT_BASE_URL.trim() !== '' ? env.LEAPCRAFT_BASE_URL : undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (arg === '--json') {
      json = true;
    } else if (arg === '--base-url' || arg.startsWith('--base-url=')) {
      const value = arg === '--base-url' ? argv[++i] : arg.slice('--base-url='.length);
      if (value === undefined || value.trim() === '') return { kind: 'error', message: '--base-url needs a URL' };
      baseUrl = value;
    } else if (/^--?(api[-_]?key|key|token)(=|$)/i.test(arg)) {
      return { kind: 'error', message: KEY_ARGUMENT };
    } else if (!arg.startsWith('-')) {
      return { kind: 'error', message: `unexpected argument (${KEY_ARGUMENT})` };
    } else {
      // The option's name only: what follows "=" could be a key.
      return { kind: 'error', message: `unknown option ${arg.split('=')[0]}` };
    }
  }
  return { kind: 'run', baseUrl, json };
}

/** Asks for the key on stderr without echoing what is typed. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let muted = false;
    const output = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (!muted) process.stderr.write(chunk);
        callback();
      },
    });
    const rl = readline.createInterface({ input: process.stdin, output, terminal: true });
    let answered = false;
    rl.on('SIGINT', () => {
      rl.close();
    });
    rl.on('close', () => {
      if (!answered) {
        process.stderr.write('\n');
        reject(new Error('no API key given'));
      }
    });
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    // The question is written; from here on the typed key is not echoed.
    muted = true;
  });
}

async function apiKey(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const fromEnv = env.LEAPCRAFT_API_KEY?.trim();
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) return undefined;
  return (await promptHidden('Leapcraft API key (not shown): ')).trim() || undefined;
}

export async function main(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const args = parseArgs(argv, env);
  if (args.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.kind === 'error') {
    process.stderr.write(`${NAME}: ${args.message}\n\n${USAGE}`);
    return 2;
  }
  let baseUrl: string;
  try {
    baseUrl = validateBaseUrl(args.baseUrl ?? DEFAULT_BASE_URL);
  } catch (err) {
    process.stderr.write(`${NAME}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const key = await apiKey(env);
  if (key === undefined) {
    process.stderr.write(`${NAME}: no API key: set LEAPCRAFT_API_KEY${process.stdin.isTTY ? '' : ' (stdin is not a terminal, so it cannot be asked for)'}\n`);
    return 2;
  }

  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    process.stderr.write(`${NAME}: checking ${baseUrl} (at most ${DOCTOR_MAX_REQUESTS} read-only requests)…\n`);
    const report = await runDoctor({ baseUrl, apiKey: key, signal: controller.signal });
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report));
    if (report.outcome === 'key-refused') {
      process.stderr.write(`${NAME}: the API key was refused (the report above shows how); check it in the Leapcraft account settings\n`);
      return 1;
    }
    if (report.outcome === 'unavailable') {
      process.stderr.write(`${NAME}: the API at ${baseUrl} gave no usable answer to the token exchange (the report above shows what was learnt)\n`);
      return 1;
    }
    return 0;
  } catch (err) {
    // runDoctor rejects only for bad input, and its messages never hold the key.
    process.stderr.write(`${NAME}: ${isLeapcraftError(err) ? err.message : 'internal error'}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    () => {
      process.stderr.write(`${NAME}: internal error\n`);
      process.exitCode = 1;
    },
  );
}
