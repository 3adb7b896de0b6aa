# rsms_guarded_copy(dst, src, len) -> NTSTATUS (Windows x64 calling convention)
#
# Copies `len` bytes with `rep movsb`. If the copy faults (a caller's pointer that is invalid,
# freed or protected), the exception is caught by the C-style structured exception handler
# `__C_specific_handler` (exported by ntoskrnl.exe in the kernel, by msvcrt/ntdll in user mode)
# through this function's unwind data and scope table, and the function returns
# STATUS_ACCESS_VIOLATION instead of bugchecking. Returns 0 on success.
#
# Rust has no __try/__except, so this is the driver's one piece of assembly: the same file is
# assembled into rsmailslot.sys (global_asm!) and into a user-mode test program that runs under
# Wine (tools/test-guarded-copy.sh), whose exception dispatcher follows the same x64 unwind ABI.
# AT&T syntax; only directives both LLVM and GNU as accept, and no braces (Rust reads the
# text as an asm! template).
    .text
    .globl rsms_guarded_copy
    .def rsms_guarded_copy
    .scl 2
    .type 32
    .endef
    .p2align 4
rsms_guarded_copy:
    .seh_proc rsms_guarded_copy
    pushq %rsi
    .seh_pushreg %rsi
    pushq %rdi
    .seh_pushreg %rdi
    subq $40, %rsp
    .seh_stackalloc 40
    .seh_endprologue
    movq %rcx, %rdi
    movq %rdx, %rsi
    movq %r8, %rcx
rsms_guarded_copy_begin:
    rep movsb
    nop
rsms_guarded_copy_end:
    xorl %eax, %eax
rsms_guarded_copy_exit:
    addq $40, %rsp
    popq %rdi
    popq %rsi
    retq
rsms_guarded_copy_fault:
    # __C_specific_handler unwinds here (RSP and the saved registers restored to this frame).
    # The exception code is not reliably in rax (Wine leaves 0), so the status is fixed:
    # STATUS_ACCESS_VIOLATION, what ProbeForRead/ProbeForWrite raise.
    movl $0xC0000005, %eax
    jmp rsms_guarded_copy_exit
    .seh_handler __C_specific_handler, @except
    .seh_handlerdata
    # SCOPE_TABLE: one record (BeginAddress, EndAddress, HandlerAddress, JumpTarget), image
    # relative; HandlerAddress 1 is EXCEPTION_EXECUTE_HANDLER, a filter that always catches.
    .long 1
    .rva rsms_guarded_copy_begin
    .rva rsms_guarded_copy_end
    .long 1
    .rva rsms_guarded_copy_fault
    .text
    .seh_endproc
