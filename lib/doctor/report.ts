/** The doctor's report as text, ready to paste into a bug report, and the simulator command that speaks what was found. */
import { redactSecrets } from '../api/redact';
import { DOCTOR_MAX_REQUESTS, DOCTOR_POINTS, DoctorOutcome, DoctorReport, READING_NAMES } from './types';

/** Secrets and identifiers of each report, for formatDoctorReport's last guard; gone with the report. */
const REPORT_SECRETS = new WeakMap<DoctorReport, string[]>();

/** Keeps the redaction of the run that made `report`, for its text. */
export function rememberRedaction(report: DoctorReport, secrets: string[]): void {
  REPORT_SECRETS.set(report, secrets);
}

const OUTCOME_TEXT: Record<DoctorOutcome, string> = {
  ok: 'every probe ran',
  incomplete: 'some probes could not run (see the surprises)',
  'key-refused': 'the API key was refused: only the answers to a made-up key and a made-up token were checked',
  unavailable: 'the API gave no usable answer to the token exchange: nothing else could be checked',
};

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

/** The command that starts the simulator speaking what the server was found to speak. */
export function simulatorCommand(report: Pick<DoctorReport, 'points'>): string | undefined {
  const names: string[] = [];
  const flags: string[] = [];
  for (const point of DOCTOR_POINTS) {
    const { reading, value } = report.points[point];
    if (reading === null) continue;
    if (Object.values(READING_NAMES[point]).includes(reading)) names.push(reading);
    else if (point === 'alertTime' && value !== undefined) flags.push(`--alert-time ${String(value)}`);
  }
  if (names.length === 0 && flags.length === 0) return undefined;
  return ['npm run simulator --', ...(names.length > 0 ? [`--dialect ${names.join(',')}`] : []), ...flags].join(' ');
}

/**
 * The report as Markdown-ish text, ready to paste into a bug report. The text goes once more
 * through the redaction of the run that made the report.
 */
export function formatDoctorReport(report: DoctorReport): string {
  const lines: string[] = [];
  lines.push(`## Leapcraft API check (${report.tool})`, '');
  lines.push(`- Server: ${report.baseUrl}`);
  lines.push(`- Run: ${report.startedAt}, ${report.requests} request${report.requests === 1 ? '' : 's'} (at most ${DOCTOR_MAX_REQUESTS}, read-only), Node.js ${process.version}`);
  lines.push(`- Outcome: ${report.outcome}: ${OUTCOME_TEXT[report.outcome]}`);
  lines.push(`- Dialect (the simulator's names): ${report.dialect.length > 0 ? report.dialect.join(', ') : 'none told'}`);
  const command = simulatorCommand(report);
  if (command) lines.push(`- The simulator speaking it: \`${command}\``);
  lines.push('', '### Open points', '', '| Point | Reading | Evidence |', '|---|---|---|');
  for (const point of DOCTOR_POINTS) {
    const finding = report.points[point];
    lines.push(`| ${point} | ${finding.reading ?? '?'} | ${cell(finding.evidence)} |`);
  }
  lines.push('', '### Surprises', '');
  if (report.surprises.length === 0) lines.push('- none');
  for (const s of report.surprises) lines.push(`- ${s}`);
  lines.push('', '### Requests', '', '| Request | Status | ms |', '|---|---|---|');
  for (const [label, status] of Object.entries(report.statuses)) {
    const ms = report.timings[label];
    lines.push(`| ${cell(label)} | ${status} | ${ms === undefined ? '' : ms} |`);
  }
  lines.push('', '### Response shapes', '');
  lines.push('Field names and types only; `?` marks a field some items lack, `array(n)` a list of n.', '');
  if (Object.keys(report.shapes).length === 0) lines.push('- none', '');
  for (const [label, shape] of Object.entries(report.shapes)) {
    const status = report.statuses[label];
    lines.push(`#### ${label}${typeof status === 'number' ? ` (HTTP ${status})` : ''}`, '', '```', shape, '```', '');
  }
  lines.push('Redacted: the API key, every token, names, physical ids, serials, gateway ids, messages and every value;');
  lines.push('only field names, types, counts, statuses and timings are shown.');
  const text = `${lines.join('\n')}\n`;
  return redactSecrets(text, REPORT_SECRETS.get(report) ?? []);
}
