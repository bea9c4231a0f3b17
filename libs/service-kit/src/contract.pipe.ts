import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { validateContract } from '@tessera/contracts';

const RPC_PAYLOAD = 3;
const PRIMITIVES: unknown[] = [String, Boolean, Number, Array, Object];

/**
 * Validates HTTP bodies and NATS payloads against their contract class (whitelist,
 * forbid unknown properties); a failure is TesseraError('INVALID') with every problem named.
 */
@Injectable()
export class ContractValidationPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const metatype = metadata.metatype;
    // HTTP bodies arrive as 'body'; NATS payloads (@Payload()) as Nest's RpcParamtype.PAYLOAD (3).
    const isPayload = metadata.type === 'body' || (metadata.type as unknown) === RPC_PAYLOAD;
    if (!isPayload || !metatype || PRIMITIVES.includes(metatype)) return value;
    return validateContract(metatype as new () => object, value);
  }
}
