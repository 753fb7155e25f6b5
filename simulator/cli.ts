#!/usr/bin/env node
/**
 * `npm run simulator` / `leapcraft-simulator`: runs the Leapcraft API simulator until SIGINT or
 * SIGTERM. The only part of the simulator that writes to the console.
 */
import { LeapcraftSimulator } from './index';
import { parseCliArgs, USAGE } from './cli-args';
import { describeDialect } from './dialect';

async function main(): Promise<void> {
  const parsed = parseCliArgs(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`leapcraft-simulator: ${parsed.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }

  const sim = new LeapcraftSimulator(parsed.options);
  const baseUrl = await sim.start();
  const root = baseUrl.slice(0, -'/v1'.length);
  const devices = sim.devices();
  process.stdout.write(
    [
      'Leapcraft API simulator running',
      `  Base URL: ${baseUrl}`,
      `  API key:  ${sim.apiKey}`,
      `  Devices:  ${devices.length} (e.g. ${devices.slice(0, 2).map((d) => d.physical_id).join(', ') || 'none'})`,
      `  Dialect:  ${describeDialect(sim.dialect).join(', ') || 'default'}`,
      `  Control:  ${root}/__sim/stats (simulator-only, loopback only)`,
      '',
      'Try:',
      `  curl -s -X POST ${baseUrl}/auth/client/token -H "Content-Type: application/x-www-form-urlencoded" -d "api_key=${sim.apiKey}"`,
      '',
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal while stopping: the user wants out now.
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`\n${signal}: stopping simulator\n`);
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`leapcraft-simulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
