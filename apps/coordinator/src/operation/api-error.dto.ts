import { ApiProperty } from '@nestjs/swagger';
import { ERROR_CODES, type ApiErrorBodyV1 } from '@tessera/contracts';

export class ApiErrorDto implements ApiErrorBodyV1 {
  @ApiProperty({ example: 404 }) statusCode!: number;
  @ApiProperty({ enum: ERROR_CODES, example: 'NOT_FOUND' }) code!: string;
  @ApiProperty({ example: 'no resource named orders' }) message!: string;
}
