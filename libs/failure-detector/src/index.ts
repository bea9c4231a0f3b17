// Public entry of @tessera/failure-detector: a pure phi-accrual failure detector and the
// ALIVE / SUSPECT / DEAD state machine health builds on. No clock, no I/O: time is passed in.
export {
  DEFAULT_PHI_ACCRUAL_OPTIONS,
  PhiAccrualDetector,
  phiOf,
  type PhiAccrualOptions,
} from './phi-accrual-detector';
export {
  DEFAULT_LIVENESS_THRESHOLDS,
  NodeLivenessTracker,
  type LivenessState,
  type LivenessThresholds,
  type LivenessTransition,
  type NodeLivenessTrackerOptions,
} from './node-liveness-tracker';
