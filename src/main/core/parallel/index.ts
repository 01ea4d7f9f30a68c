export { ForwardPool, type ForwardOutput, type ForwardPoolInfo, type ForwardPoolOptions } from './forwardPool'
