/* SPDX-License-Identifier: MIT */
/* hvmm's Linux compat layer: the kernel's error numbers the hosted code returns. */
#ifndef HVMM_COMPAT_LINUX_ERRNO_H
#define HVMM_COMPAT_LINUX_ERRNO_H

#define EPERM		1
#define ENOENT		2
#define E2BIG		7
#define EAGAIN		11
#define ENOMEM		12
#define EFAULT		14
#define EBUSY		16
#define EEXIST		17
#define EINVAL		22
#define ERANGE		34

#endif
