import { Module } from '@nestjs/common';
import { LivenessModule } from './liveness/liveness.module';

@Module({ imports: [LivenessModule] })
export class HealthModule {}
