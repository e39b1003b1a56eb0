import { Module } from '@nestjs/common';
import { LineageController } from './lineage.controller.js';
import { LineageRepository } from './lineage.repository.js';
import { LineageService } from './lineage.service.js';

@Module({
  controllers: [LineageController],
  providers: [LineageService, LineageRepository],
  exports: [LineageService],
})
export class LineageModule {}
