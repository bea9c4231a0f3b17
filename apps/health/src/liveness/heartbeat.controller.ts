import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { type ListNodesReplyV1, ListNodesRequestV1, Subjects } from '@tessera/contracts';
import { TesseraRpcContext } from '@tessera/messaging';
import { HealthMonitor } from './health-monitor.service';

/** NATS side of health: heartbeats in, liveness out. */
@Controller()
export class HeartbeatController {
  constructor(private readonly monitor: HealthMonitor) {}

  /**
   * `health.node.heartbeat.<nodeId>`: validated by the monitor, which counts what it refuses.
   * A heartbeat sent as a request gets `{ ok: true }` once accepted: that acknowledgement renews
   * the node's leader lease (node-agent). A plain publish (no reply subject) still works and is
   * simply not answered; a refused one is answered with its error code either way.
   */
  @MessagePattern(Subjects.health.heartbeatPattern)
  heartbeat(@Payload() payload: unknown, @Ctx() ctx: TesseraRpcContext): Record<string, never> {
    this.monitor.receiveHeartbeat(ctx.getSubjectIdentity(), payload);
    return {};
  }

  @MessagePattern(Subjects.health.listNodes)
  listNodes(@Payload() request: ListNodesRequestV1): ListNodesReplyV1 {
    return this.monitor.listNodes(request.nodeId);
  }
}
