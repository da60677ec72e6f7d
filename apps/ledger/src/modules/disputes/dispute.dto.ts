import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { disputeCategories, disputeOutcomes } from '#lib/disputes/domain/dispute.decider.js';
import { DecimalAmount, Identifier, OptionalCalendarDate, OptionalDecimalAmount, OptionalIdentifier, OptionalText, Text } from '../../http/validators.js';
import { OverlaySplitBody, PrimarySplitBody } from '../crediting/deal.dto.js';

const subjectKinds = ['deal', 'credit', 'statement_line', 'period'] as const;

const EvidenceReferences = (description: string): PropertyDecorator => (target, key) => {
  ApiPropertyOptional({ type: [String], description, example: ['doc:plan-2026.pdf#page=4', 'crm:opportunity/0065e00000abc'] })(target, key);
  IsOptional()(target, key);
  IsArray()(target, key);
  ArrayMaxSize(20)(target, key);
  IsString({ each: true })(target, key);
  MaxLength(500, { each: true })(target, key);
};

export class DisputeSubjectBody {
  @ApiProperty({ enum: subjectKinds, description: 'What is disputed: a deal, one credit on it, a statement line or a whole period' })
  @IsIn(subjectKinds)
  kind!: (typeof subjectKinds)[number];
  @OptionalIdentifier('For deal and credit: the deal', 'D-1') dealId?: string;
  @OptionalText('For credit: the credit id, "<deal>:<payee>:primary|overlay"', 'D-1:P-1:primary', 300) creditId?: string;
  @OptionalText('For statement_line and period: the period, "2026-03"', '2026-03', 10) periodId?: string;
  @OptionalText('For statement_line: the line id as the statement shows it', 'commission:D-1:P-1:primary', 300) lineId?: string;
}

export class FileDisputeBody {
  @OptionalIdentifier('Your id for the dispute; default derived from the Idempotency-Key, else drawn', 'DSP-2026-0001') disputeId?: string;
  @Identifier('The payee whose pay is disputed (a rep: their own)', 'P-1') payeeId!: string;
  @ApiProperty({ type: DisputeSubjectBody })
  @ValidateNested()
  @Type(() => DisputeSubjectBody)
  subject!: DisputeSubjectBody;
  @ApiProperty({ enum: disputeCategories, description: 'missing_credit and wrong_split are about credits; the due date depends on the category' })
  @IsIn(disputeCategories)
  category!: string;
  @DecimalAmount('What the rep says they are owed, in the payee\'s currency', '500.00') amountClaimed!: string;
  @ApiPropertyOptional({ description: 'ISO 4217; default the payee\'s currency, and it must be that', example: 'USD' })
  @IsOptional()
  @IsString()
  currency?: string;
  @Text('What is wrong and why', 'Paid at 8%; the plan pays 10% above quota', 4000) description!: string;
  @EvidenceReferences('References to evidence (documents, CRM records), at most 20') evidenceReferences?: string[];
}

export class AssignDisputeBody {
  @Identifier('The analyst who reviews the dispute', 'analyst-1') assigneeId!: string;
}

export class CommentBody {
  @Text('The comment', 'Attached the signed order form', 4000) text!: string;
}

export class InformationRequestBody {
  @Text('What the analyst needs from the rep', 'Which deals were priced at 8%?', 4000) question!: string;
}

export class InformationBody {
  @Text('The rep\'s answer', 'D-1 and D-4', 4000) answer!: string;
  @EvidenceReferences('More evidence, at most 20') evidenceReferences?: string[];
}

export class CreditCorrectionBody {
  @Identifier('The deal whose credits are corrected (the disputed one)', 'D-1') dealId!: string;
  @ApiProperty({ type: [PrimarySplitBody], description: 'The corrected primary split; shares total exactly 100' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => PrimarySplitBody)
  splits!: PrimarySplitBody[];
  @ApiPropertyOptional({ type: [OverlaySplitBody], description: 'Overlays; left out, the managers roll up as when a deal closes' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => OverlaySplitBody)
  overlays?: OverlaySplitBody[];
  @OptionalCalendarDate('The credit date; default the deal\'s') creditDate?: string;
}

export class ResolutionBody {
  @ApiProperty({ enum: disputeOutcomes })
  @IsIn(disputeOutcomes)
  outcome!: string;
  @OptionalDecimalAmount('For partially_approved: the amount approved, less than claimed', '300.00') amountApproved?: string;
  @OptionalText('Why; required to reject or to approve in part', 'Only March deals were under the new rate', 4000) reason?: string;
  @ApiPropertyOptional({ type: CreditCorrectionBody, description: 'missing_credit and wrong_split only: settle by re-allocating the deal instead of an adjustment' })
  @IsOptional()
  @ValidateNested()
  @Type(() => CreditCorrectionBody)
  creditCorrection?: CreditCorrectionBody;
}

export class WithdrawalBody {
  @OptionalText('Why the filer withdraws', 'Found the credit on the next statement', 4000) reason?: string;
}

export class ReopenBody {
  @Text('Why the resolution is reopened', 'April deals were under the new rate too', 4000) reason!: string;
}
