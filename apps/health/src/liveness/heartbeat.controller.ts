import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { type ListNodesReplyV1, ListNodesRequestV1, Subjects } from '@tessera/contracts';
import { TesseraRpcContext } from '@tessera/messaging';
import { HealthMonitor } from './health-monitor.service';

/** NATS side of health: heartbeats in (fire-and-forget), liveness out. */
@Controller()
export class HeartbeatController {
  constructor(private readonly monitor: HealthMonitor) {}

  /** `health.node.heartbeat.<nodeId>`: validated by the monitor, which counts what it refuses. */
  @EventPattern(Subjects.health.heartbeatPattern)
  heartbeat(@Payload() payload: unknown, @Ctx() ctx: TesseraRpcContext): void {
    this.monitor.receiveHeartbeat(ctx.getSubjectIdentity(), payload);
  }

  @MessagePattern(Subjects.health.listNodes)
  listNodes(@Payload() request: ListNodesRequestV1): ListNodesReplyV1 {
    return this.monitor.listNodes(request.nodeId);
  }
}
