/* SPDX-License-Identifier: MIT */
/*
 * The binary form's record tags (traces/FORMAT.md). After the magic, the
 * version and the header text, a trace is a sequence of records, each
 * starting with an unsigned LEB128 tag:
 *   0           a verbatim line: length, bytes
 *   1           the end: number of ops in the trace
 *   2 + 2k + e  op of kind k; e = 1 if an expected result (-result) follows;
 *               then one value per argument of sim_op_descs[k], in order
 */
#ifndef SIM_TRACE_BINARY_H
#define SIM_TRACE_BINARY_H

#define SIM_TRACE_TAG_LINE	0u
#define SIM_TRACE_TAG_END	1u
#define SIM_TRACE_TAG_OP	2u

#define SIM_TRACE_VARINT_MAX	10	/* bytes in a 64-bit LEB128 */

#endif /* SIM_TRACE_BINARY_H */
