/* Prints the Windows x64 sizes and offsets of the kernel structures ntemu builds or reads,
 * from mingw-w64's DDK headers (a source independent of this project). tools/layout-probe.sh
 * compiles it with x86_64-w64-mingw32-gcc and runs it under Wine; ntemu's layout test
 * compares every line with ntemu/src/layout.rs and the status mapping with ntemu's kernel32.
 * Output: "NAME VALUE" per line, decimal. */
#include <stdio.h>
#include <stddef.h>
#include <ddk/ntifs.h>

/* Wine's RtlNtStatusToDosError, a second source for the mapping ntemu's kernel32 applies. */
NTSYSAPI ULONG NTAPI RtlNtStatusToDosError(NTSTATUS status);

/* The statuses the I/O path can produce; ntemu's test fails if it maps one not listed here. */
static const unsigned statuses[] = {
    0x00000000, 0x00000103, 0x80000002, 0x80000005, 0x80000006, 0xC0000001, 0xC0000003,
    0xC0000004, 0xC0000005, 0xC0000008, 0xC000000D, 0xC000000E, 0xC000000F, 0xC0000010,
    0xC0000011, 0xC0000022, 0xC0000023, 0xC0000024, 0xC0000033, 0xC0000034, 0xC0000035,
    0xC000003A, 0xC000003B, 0xC0000044, 0xC0000059, 0xC0000078, 0xC0000079, 0xC000009A, 0xC00000B5,
    0xC00000B6, 0xC00000BB, 0xC0000120, 0xC0000184, 0xC0000225, 0xC000005A, 0xC000022D,
};

#define SIZE(t) printf("sizeof.%s %u\n", #t, (unsigned)sizeof(t))
#define OFF(t, f) printf("offsetof.%s.%s %u\n", #t, #f, (unsigned)offsetof(t, f))

int main(void)
{
    SIZE(IRP);
    OFF(IRP, Type); OFF(IRP, Size); OFF(IRP, MdlAddress); OFF(IRP, Flags);
    OFF(IRP, AssociatedIrp.SystemBuffer); OFF(IRP, ThreadListEntry); OFF(IRP, IoStatus);
    OFF(IRP, IoStatus.Information); OFF(IRP, RequestorMode); OFF(IRP, PendingReturned);
    OFF(IRP, StackCount); OFF(IRP, CurrentLocation); OFF(IRP, Cancel); OFF(IRP, CancelIrql);
    OFF(IRP, ApcEnvironment); OFF(IRP, AllocationFlags); OFF(IRP, UserIosb); OFF(IRP, UserEvent);
    OFF(IRP, Overlay.AsynchronousParameters.UserApcRoutine);
    OFF(IRP, Overlay.AsynchronousParameters.UserApcContext); OFF(IRP, CancelRoutine);
    OFF(IRP, UserBuffer); OFF(IRP, Tail.Overlay.DriverContext); OFF(IRP, Tail.Overlay.Thread);
    OFF(IRP, Tail.Overlay.AuxiliaryBuffer); OFF(IRP, Tail.Overlay.ListEntry);
    OFF(IRP, Tail.Overlay.CurrentStackLocation); OFF(IRP, Tail.Overlay.OriginalFileObject);

    SIZE(IO_STACK_LOCATION);
    OFF(IO_STACK_LOCATION, MajorFunction); OFF(IO_STACK_LOCATION, MinorFunction);
    OFF(IO_STACK_LOCATION, Flags); OFF(IO_STACK_LOCATION, Control);
    OFF(IO_STACK_LOCATION, Parameters.Create.SecurityContext);
    OFF(IO_STACK_LOCATION, Parameters.Create.Options);
    OFF(IO_STACK_LOCATION, Parameters.Create.FileAttributes);
    OFF(IO_STACK_LOCATION, Parameters.Create.ShareAccess);
    OFF(IO_STACK_LOCATION, Parameters.Create.EaLength);
    OFF(IO_STACK_LOCATION, Parameters.CreateMailslot.Parameters);
    OFF(IO_STACK_LOCATION, Parameters.Read.Length); OFF(IO_STACK_LOCATION, Parameters.Read.Key);
    OFF(IO_STACK_LOCATION, Parameters.Read.ByteOffset);
    OFF(IO_STACK_LOCATION, Parameters.Write.Length);
    OFF(IO_STACK_LOCATION, Parameters.Write.ByteOffset);
    OFF(IO_STACK_LOCATION, Parameters.QueryDirectory.Length);
    OFF(IO_STACK_LOCATION, Parameters.QueryDirectory.FileName);
    OFF(IO_STACK_LOCATION, Parameters.QueryDirectory.FileInformationClass);
    OFF(IO_STACK_LOCATION, Parameters.QueryDirectory.FileIndex);
    OFF(IO_STACK_LOCATION, Parameters.QueryFile.Length);
    OFF(IO_STACK_LOCATION, Parameters.QueryFile.FileInformationClass);
    OFF(IO_STACK_LOCATION, Parameters.SetFile.Length);
    OFF(IO_STACK_LOCATION, Parameters.SetFile.FileInformationClass);
    OFF(IO_STACK_LOCATION, Parameters.QueryVolume.Length);
    OFF(IO_STACK_LOCATION, Parameters.QueryVolume.FsInformationClass);
    OFF(IO_STACK_LOCATION, Parameters.FileSystemControl.OutputBufferLength);
    OFF(IO_STACK_LOCATION, Parameters.FileSystemControl.InputBufferLength);
    OFF(IO_STACK_LOCATION, Parameters.FileSystemControl.FsControlCode);
    OFF(IO_STACK_LOCATION, Parameters.FileSystemControl.Type3InputBuffer);
    OFF(IO_STACK_LOCATION, Parameters.QuerySecurity.SecurityInformation);
    OFF(IO_STACK_LOCATION, Parameters.QuerySecurity.Length);
    OFF(IO_STACK_LOCATION, Parameters.SetSecurity.SecurityInformation);
    OFF(IO_STACK_LOCATION, Parameters.SetSecurity.SecurityDescriptor);
    OFF(IO_STACK_LOCATION, DeviceObject); OFF(IO_STACK_LOCATION, FileObject);
    OFF(IO_STACK_LOCATION, CompletionRoutine); OFF(IO_STACK_LOCATION, Context);

    SIZE(FILE_OBJECT);
    OFF(FILE_OBJECT, Type); OFF(FILE_OBJECT, Size); OFF(FILE_OBJECT, DeviceObject);
    OFF(FILE_OBJECT, Vpb); OFF(FILE_OBJECT, FsContext); OFF(FILE_OBJECT, FsContext2);
    OFF(FILE_OBJECT, FinalStatus); OFF(FILE_OBJECT, RelatedFileObject);
    OFF(FILE_OBJECT, ReadAccess); OFF(FILE_OBJECT, WriteAccess); OFF(FILE_OBJECT, Flags);
    OFF(FILE_OBJECT, FileName); OFF(FILE_OBJECT, CurrentByteOffset); OFF(FILE_OBJECT, Event);

    SIZE(DEVICE_OBJECT);
    OFF(DEVICE_OBJECT, Type); OFF(DEVICE_OBJECT, Size); OFF(DEVICE_OBJECT, ReferenceCount);
    OFF(DEVICE_OBJECT, DriverObject); OFF(DEVICE_OBJECT, NextDevice); OFF(DEVICE_OBJECT, Flags);
    OFF(DEVICE_OBJECT, Characteristics); OFF(DEVICE_OBJECT, DeviceExtension);
    OFF(DEVICE_OBJECT, DeviceType); OFF(DEVICE_OBJECT, StackSize);
    OFF(DEVICE_OBJECT, AlignmentRequirement); OFF(DEVICE_OBJECT, SecurityDescriptor);

    SIZE(DRIVER_OBJECT);
    OFF(DRIVER_OBJECT, Type); OFF(DRIVER_OBJECT, Size); OFF(DRIVER_OBJECT, DeviceObject);
    OFF(DRIVER_OBJECT, Flags); OFF(DRIVER_OBJECT, DriverStart); OFF(DRIVER_OBJECT, DriverSize);
    OFF(DRIVER_OBJECT, DriverExtension); OFF(DRIVER_OBJECT, DriverName);
    OFF(DRIVER_OBJECT, FastIoDispatch); OFF(DRIVER_OBJECT, DriverInit);
    OFF(DRIVER_OBJECT, DriverUnload); OFF(DRIVER_OBJECT, MajorFunction);

    SIZE(IO_SECURITY_CONTEXT);
    OFF(IO_SECURITY_CONTEXT, SecurityQos); OFF(IO_SECURITY_CONTEXT, AccessState);
    OFF(IO_SECURITY_CONTEXT, DesiredAccess); OFF(IO_SECURITY_CONTEXT, FullCreateOptions);

    SIZE(ACCESS_STATE);
    OFF(ACCESS_STATE, OperationID); OFF(ACCESS_STATE, SecurityEvaluated);
    OFF(ACCESS_STATE, Flags); OFF(ACCESS_STATE, RemainingDesiredAccess);
    OFF(ACCESS_STATE, PreviouslyGrantedAccess); OFF(ACCESS_STATE, OriginalDesiredAccess);
    OFF(ACCESS_STATE, SubjectSecurityContext); OFF(ACCESS_STATE, SecurityDescriptor);
    OFF(ACCESS_STATE, AuxData);
    SIZE(SECURITY_SUBJECT_CONTEXT);
    OFF(SECURITY_SUBJECT_CONTEXT, ClientToken); OFF(SECURITY_SUBJECT_CONTEXT, ImpersonationLevel);
    OFF(SECURITY_SUBJECT_CONTEXT, PrimaryToken); OFF(SECURITY_SUBJECT_CONTEXT, ProcessAuditId);

    SIZE(TOKEN_USER); OFF(TOKEN_USER, User.Sid); OFF(TOKEN_USER, User.Attributes);
    printf("const.TokenUser %u\n", (unsigned)TokenUser);

    SIZE(MAILSLOT_CREATE_PARAMETERS);
    OFF(MAILSLOT_CREATE_PARAMETERS, MailslotQuota);
    OFF(MAILSLOT_CREATE_PARAMETERS, MaximumMessageSize);
    OFF(MAILSLOT_CREATE_PARAMETERS, ReadTimeout);
    OFF(MAILSLOT_CREATE_PARAMETERS, TimeoutSpecified);

    SIZE(KDPC);
    OFF(KDPC, DeferredRoutine); OFF(KDPC, DeferredContext);
    OFF(KDPC, SystemArgument1); OFF(KDPC, SystemArgument2);
    SIZE(KTIMER);
    OFF(KTIMER, Header); OFF(KTIMER, DueTime); OFF(KTIMER, Dpc);

    SIZE(IO_STATUS_BLOCK); OFF(IO_STATUS_BLOCK, Information);
    SIZE(UNICODE_STRING); OFF(UNICODE_STRING, MaximumLength); OFF(UNICODE_STRING, Buffer);
    SIZE(OBJECT_ATTRIBUTES);
    OFF(OBJECT_ATTRIBUTES, RootDirectory); OFF(OBJECT_ATTRIBUTES, ObjectName);
    OFF(OBJECT_ATTRIBUTES, Attributes); OFF(OBJECT_ATTRIBUTES, SecurityDescriptor);
    OFF(OBJECT_ATTRIBUTES, SecurityQualityOfService);

    printf("const.FO_SYNCHRONOUS_IO %u\n", (unsigned)FO_SYNCHRONOUS_IO);
    printf("const.FO_MAILSLOT %u\n", (unsigned)FO_MAILSLOT);
    printf("const.FO_NAMED_PIPE %u\n", (unsigned)FO_NAMED_PIPE);
    printf("const.FO_DIRECT_DEVICE_OPEN %u\n", (unsigned)FO_DIRECT_DEVICE_OPEN);
    printf("const.DO_BUFFERED_IO %u\n", (unsigned)DO_BUFFERED_IO);
    printf("const.DO_DIRECT_IO %u\n", (unsigned)DO_DIRECT_IO);
    printf("const.DO_DEVICE_INITIALIZING %u\n", (unsigned)DO_DEVICE_INITIALIZING);
    printf("const.IRP_BUFFERED_IO %u\n", (unsigned)IRP_BUFFERED_IO);
    printf("const.IRP_DEALLOCATE_BUFFER %u\n", (unsigned)IRP_DEALLOCATE_BUFFER);
    printf("const.IRP_INPUT_OPERATION %u\n", (unsigned)IRP_INPUT_OPERATION);
    printf("const.IRP_SYNCHRONOUS_API %u\n", (unsigned)IRP_SYNCHRONOUS_API);
    printf("const.IRP_CREATE_OPERATION %u\n", (unsigned)IRP_CREATE_OPERATION);
    printf("const.IRP_CLOSE_OPERATION %u\n", (unsigned)IRP_CLOSE_OPERATION);
    printf("const.IRP_DEFER_IO_COMPLETION %u\n", (unsigned)IRP_DEFER_IO_COMPLETION);
    printf("const.SL_PENDING_RETURNED %u\n", (unsigned)SL_PENDING_RETURNED);
    printf("const.SL_FORCE_ACCESS_CHECK %u\n", (unsigned)SL_FORCE_ACCESS_CHECK);
    printf("const.FILE_DEVICE_SECURE_OPEN %u\n", (unsigned)FILE_DEVICE_SECURE_OPEN);
    printf("const.IO_MAILSLOT_INCREMENT %u\n", (unsigned)IO_MAILSLOT_INCREMENT);
    printf("const.IO_TYPE_DEVICE %u\n", (unsigned)IO_TYPE_DEVICE);
    printf("const.IO_TYPE_DRIVER %u\n", (unsigned)IO_TYPE_DRIVER);
    printf("const.IO_TYPE_FILE %u\n", (unsigned)IO_TYPE_FILE);
    printf("const.IO_TYPE_IRP %u\n", (unsigned)IO_TYPE_IRP);

    for (unsigned i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        printf("dos.0x%08X %lu\n", statuses[i], RtlNtStatusToDosError((NTSTATUS)statuses[i]));
    return 0;
}
