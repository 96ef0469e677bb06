/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aiodev tracepoints: the life of a request, in /sys/kernel/tracing/events/
 * aiodev/, for ftrace, perf trace and bpftrace. Times are nanoseconds; ids
 * are those AIODEV_IOC_SUBMIT returns.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM aiodev

#if !defined(_AIODEV_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _AIODEV_TRACE_H

#include <linux/tracepoint.h>
#include <linux/aiodev.h>

#define aiodev_show_op(op)						\
	__print_symbolic(op,						\
			 { AIODEV_OP_NOP, "nop" },			\
			 { AIODEV_OP_READ, "read" },			\
			 { AIODEV_OP_WRITE, "write" })

TRACE_EVENT(aiodev_submit,
	    TP_PROTO(unsigned int dev, u64 id, u8 op, u64 offset, u32 len,
		     u64 delay_ns, bool will_time_out),
	    TP_ARGS(dev, id, op, offset, len, delay_ns, will_time_out),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(u64, id)
			     __field(u8, op)
			     __field(u64, offset)
			     __field(u32, len)
			     __field(u64, delay_ns)
			     __field(bool, will_time_out)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->id = id;
			   __entry->op = op;
			   __entry->offset = offset;
			   __entry->len = len;
			   __entry->delay_ns = delay_ns;
			   __entry->will_time_out = will_time_out;),
	    TP_printk("dev=%u id=%#llx op=%s offset=%llu len=%u delay_ns=%llu will_time_out=%d",
		      __entry->dev, __entry->id, aiodev_show_op(__entry->op),
		      __entry->offset, __entry->len, __entry->delay_ns,
		      __entry->will_time_out)
);

TRACE_EVENT(aiodev_timer_fire,
	    TP_PROTO(unsigned int dev, u64 id, s64 lateness_ns),
	    TP_ARGS(dev, id, lateness_ns),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(u64, id)
			     __field(s64, lateness_ns)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->id = id;
			   __entry->lateness_ns = lateness_ns;),
	    TP_printk("dev=%u id=%#llx lateness_ns=%lld",
		      __entry->dev, __entry->id, __entry->lateness_ns)
);

TRACE_EVENT(aiodev_complete,
	    TP_PROTO(unsigned int dev, u64 id, u8 op, s64 result,
		     u64 latency_ns, s64 lateness_ns),
	    TP_ARGS(dev, id, op, result, latency_ns, lateness_ns),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(u64, id)
			     __field(u8, op)
			     __field(s64, result)
			     __field(u64, latency_ns)
			     __field(s64, lateness_ns)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->id = id;
			   __entry->op = op;
			   __entry->result = result;
			   __entry->latency_ns = latency_ns;
			   __entry->lateness_ns = lateness_ns;),
	    TP_printk("dev=%u id=%#llx op=%s result=%lld latency_ns=%llu lateness_ns=%lld",
		      __entry->dev, __entry->id, aiodev_show_op(__entry->op),
		      __entry->result, __entry->latency_ns, __entry->lateness_ns)
);

TRACE_EVENT(aiodev_timeout,
	    TP_PROTO(unsigned int dev, u64 id, u64 deadline_ns),
	    TP_ARGS(dev, id, deadline_ns),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(u64, id)
			     __field(u64, deadline_ns)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->id = id;
			   __entry->deadline_ns = deadline_ns;),
	    TP_printk("dev=%u id=%#llx deadline_ns=%llu",
		      __entry->dev, __entry->id, __entry->deadline_ns)
);

TRACE_EVENT(aiodev_cancel,
	    TP_PROTO(unsigned int dev, u64 id, bool armed),
	    TP_ARGS(dev, id, armed),
	    TP_STRUCT__entry(__field(unsigned int, dev)
			     __field(u64, id)
			     __field(bool, armed)),
	    TP_fast_assign(__entry->dev = dev;
			   __entry->id = id;
			   __entry->armed = armed;),
	    TP_printk("dev=%u id=%#llx armed=%d",
		      __entry->dev, __entry->id, __entry->armed)
);

#endif /* _AIODEV_TRACE_H */

/* Out of tree: found through -I$(src)/kmod (see Kbuild). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE aiodev_trace
#include <trace/define_trace.h>
