/** The doctor: a first-contact check of a Leapcraft API server (`leapcraft-doctor`, the account dialog's *Check API*). */
export { runDoctor } from './probe';
export { formatDoctorReport, simulatorCommand } from './report';
export { describeShape } from './shape';
export {
  DOCTOR_DEFAULT_TIMEOUT_MS, DOCTOR_MAX_REQUESTS, DOCTOR_POINTS, READING_NAMES, DoctorOptions, DoctorOutcome, DoctorPoint, DoctorReport,
  PointFinding, ReadingValue,
} from './types';
