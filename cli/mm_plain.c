// SPDX-License-Identifier: MIT
/*
 * Linked into hvmm-plain alone (meson.build), whose mm/ is built without
 * the event hooks: see cli_mm_plain() in cli.h.
 */
#include "cli.h"

bool cli_mm_plain(void)
{
	return true;
}
