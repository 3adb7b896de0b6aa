//! Windows x64 layouts of the kernel structures the emulator builds (IRP, FILE_OBJECT, ...) or
//! reads out of the driver's memory (KDPC, KTIMER), and the flag values it sets in them.
//!
//! The numbers are written here once and checked against a source this project did not write:
//! `ntemu/probe/layout.c`, compiled against mingw-w64's DDK headers and run under Wine by
//! `tools/layout-probe.sh`, prints every one of them; `tests/layout.rs` compares that output
//! with [`PROBED`] line by line. They are never taken from `driver/src/ffi.rs`.

macro_rules! layout {
    ($($module:ident { $($name:ident = $value:expr => $probe:literal;)* })*) => {
        $(pub mod $module { $(pub const $name: usize = $value;)* })*
        /// Every constant above with the probe line that must print it.
        pub const PROBED: &[(&str, usize)] = &[$($(($probe, $module::$name),)*)*];
    };
}

layout! {
    irp {
        SIZE = 208 => "sizeof.IRP";
        TYPE = 0x00 => "offsetof.IRP.Type";
        SIZE_FIELD = 0x02 => "offsetof.IRP.Size";
        MDL_ADDRESS = 0x08 => "offsetof.IRP.MdlAddress";
        FLAGS = 0x10 => "offsetof.IRP.Flags";
        SYSTEM_BUFFER = 0x18 => "offsetof.IRP.AssociatedIrp.SystemBuffer";
        THREAD_LIST_ENTRY = 0x20 => "offsetof.IRP.ThreadListEntry";
        IO_STATUS = 0x30 => "offsetof.IRP.IoStatus";
        IO_STATUS_INFORMATION = 0x38 => "offsetof.IRP.IoStatus.Information";
        REQUESTOR_MODE = 0x40 => "offsetof.IRP.RequestorMode";
        PENDING_RETURNED = 0x41 => "offsetof.IRP.PendingReturned";
        STACK_COUNT = 0x42 => "offsetof.IRP.StackCount";
        CURRENT_LOCATION = 0x43 => "offsetof.IRP.CurrentLocation";
        CANCEL = 0x44 => "offsetof.IRP.Cancel";
        CANCEL_IRQL = 0x45 => "offsetof.IRP.CancelIrql";
        APC_ENVIRONMENT = 0x46 => "offsetof.IRP.ApcEnvironment";
        ALLOCATION_FLAGS = 0x47 => "offsetof.IRP.AllocationFlags";
        USER_IOSB = 0x48 => "offsetof.IRP.UserIosb";
        USER_EVENT = 0x50 => "offsetof.IRP.UserEvent";
        USER_APC_ROUTINE = 0x58 => "offsetof.IRP.Overlay.AsynchronousParameters.UserApcRoutine";
        USER_APC_CONTEXT = 0x60 => "offsetof.IRP.Overlay.AsynchronousParameters.UserApcContext";
        CANCEL_ROUTINE = 0x68 => "offsetof.IRP.CancelRoutine";
        USER_BUFFER = 0x70 => "offsetof.IRP.UserBuffer";
        DRIVER_CONTEXT = 0x78 => "offsetof.IRP.Tail.Overlay.DriverContext";
        THREAD = 0x98 => "offsetof.IRP.Tail.Overlay.Thread";
        AUXILIARY_BUFFER = 0xA0 => "offsetof.IRP.Tail.Overlay.AuxiliaryBuffer";
        LIST_ENTRY = 0xA8 => "offsetof.IRP.Tail.Overlay.ListEntry";
        CURRENT_STACK_LOCATION = 0xB8 => "offsetof.IRP.Tail.Overlay.CurrentStackLocation";
        ORIGINAL_FILE_OBJECT = 0xC0 => "offsetof.IRP.Tail.Overlay.OriginalFileObject";
    }
    stack {
        SIZE = 72 => "sizeof.IO_STACK_LOCATION";
        MAJOR = 0 => "offsetof.IO_STACK_LOCATION.MajorFunction";
        MINOR = 1 => "offsetof.IO_STACK_LOCATION.MinorFunction";
        FLAGS = 2 => "offsetof.IO_STACK_LOCATION.Flags";
        CONTROL = 3 => "offsetof.IO_STACK_LOCATION.Control";
        CREATE_SECURITY_CONTEXT = 0x08 => "offsetof.IO_STACK_LOCATION.Parameters.Create.SecurityContext";
        CREATE_OPTIONS = 0x10 => "offsetof.IO_STACK_LOCATION.Parameters.Create.Options";
        CREATE_FILE_ATTRIBUTES = 0x18 => "offsetof.IO_STACK_LOCATION.Parameters.Create.FileAttributes";
        CREATE_SHARE_ACCESS = 0x1A => "offsetof.IO_STACK_LOCATION.Parameters.Create.ShareAccess";
        CREATE_EA_LENGTH = 0x20 => "offsetof.IO_STACK_LOCATION.Parameters.Create.EaLength";
        MAILSLOT_PARAMETERS = 0x20 => "offsetof.IO_STACK_LOCATION.Parameters.CreateMailslot.Parameters";
        READ_LENGTH = 0x08 => "offsetof.IO_STACK_LOCATION.Parameters.Read.Length";
        READ_KEY = 0x10 => "offsetof.IO_STACK_LOCATION.Parameters.Read.Key";
        READ_BYTE_OFFSET = 0x18 => "offsetof.IO_STACK_LOCATION.Parameters.Read.ByteOffset";
        WRITE_LENGTH = 0x08 => "offsetof.IO_STACK_LOCATION.Parameters.Write.Length";
        WRITE_BYTE_OFFSET = 0x18 => "offsetof.IO_STACK_LOCATION.Parameters.Write.ByteOffset";
        DIRECTORY_LENGTH = 0x08 => "offsetof.IO_STACK_LOCATION.Parameters.QueryDirectory.Length";
        DIRECTORY_FILE_NAME = 0x10 => "offsetof.IO_STACK_LOCATION.Parameters.QueryDirectory.FileName";
        DIRECTORY_CLASS = 0x18 => "offsetof.IO_STACK_LOCATION.Parameters.QueryDirectory.FileInformationClass";
        DIRECTORY_INDEX = 0x20 => "offsetof.IO_STACK_LOCATION.Parameters.QueryDirectory.FileIndex";
        QUERY_FILE_LENGTH = 0x08 => "offsetof.IO_STACK_LOCATION.Parameters.QueryFile.Length";
        QUERY_FILE_CLASS = 0x10 => "offsetof.IO_STACK_LOCATION.Parameters.QueryFile.FileInformationClass";
        SET_FILE_LENGTH = 0x08 => "offsetof.IO_STACK_LOCATION.Parameters.SetFile.Length";
        SET_FILE_CLASS = 0x10 => "offsetof.IO_STACK_LOCATION.Parameters.SetFile.FileInformationClass";
        QUERY_VOLUME_LENGTH = 0x08 => "offsetof.IO_STACK_LOCATION.Parameters.QueryVolume.Length";
        QUERY_VOLUME_CLASS = 0x10 => "offsetof.IO_STACK_LOCATION.Parameters.QueryVolume.FsInformationClass";
        FSCTL_OUTPUT_LENGTH = 0x08 => "offsetof.IO_STACK_LOCATION.Parameters.FileSystemControl.OutputBufferLength";
        FSCTL_INPUT_LENGTH = 0x10 => "offsetof.IO_STACK_LOCATION.Parameters.FileSystemControl.InputBufferLength";
        FSCTL_CODE = 0x18 => "offsetof.IO_STACK_LOCATION.Parameters.FileSystemControl.FsControlCode";
        FSCTL_TYPE3_INPUT = 0x20 => "offsetof.IO_STACK_LOCATION.Parameters.FileSystemControl.Type3InputBuffer";
        QUERY_SECURITY_INFORMATION = 0x08 => "offsetof.IO_STACK_LOCATION.Parameters.QuerySecurity.SecurityInformation";
        QUERY_SECURITY_LENGTH = 0x10 => "offsetof.IO_STACK_LOCATION.Parameters.QuerySecurity.Length";
        SET_SECURITY_INFORMATION = 0x08 => "offsetof.IO_STACK_LOCATION.Parameters.SetSecurity.SecurityInformation";
        SET_SECURITY_DESCRIPTOR = 0x10 => "offsetof.IO_STACK_LOCATION.Parameters.SetSecurity.SecurityDescriptor";
        DEVICE_OBJECT = 0x28 => "offsetof.IO_STACK_LOCATION.DeviceObject";
        FILE_OBJECT = 0x30 => "offsetof.IO_STACK_LOCATION.FileObject";
        COMPLETION_ROUTINE = 0x38 => "offsetof.IO_STACK_LOCATION.CompletionRoutine";
        CONTEXT = 0x40 => "offsetof.IO_STACK_LOCATION.Context";
    }
    file {
        SIZE = 216 => "sizeof.FILE_OBJECT";
        TYPE = 0x00 => "offsetof.FILE_OBJECT.Type";
        SIZE_FIELD = 0x02 => "offsetof.FILE_OBJECT.Size";
        DEVICE_OBJECT = 0x08 => "offsetof.FILE_OBJECT.DeviceObject";
        VPB = 0x10 => "offsetof.FILE_OBJECT.Vpb";
        FS_CONTEXT = 0x18 => "offsetof.FILE_OBJECT.FsContext";
        FS_CONTEXT2 = 0x20 => "offsetof.FILE_OBJECT.FsContext2";
        FINAL_STATUS = 0x38 => "offsetof.FILE_OBJECT.FinalStatus";
        RELATED_FILE_OBJECT = 0x40 => "offsetof.FILE_OBJECT.RelatedFileObject";
        READ_ACCESS = 0x4A => "offsetof.FILE_OBJECT.ReadAccess";
        WRITE_ACCESS = 0x4B => "offsetof.FILE_OBJECT.WriteAccess";
        FLAGS = 0x50 => "offsetof.FILE_OBJECT.Flags";
        FILE_NAME = 0x58 => "offsetof.FILE_OBJECT.FileName";
        CURRENT_BYTE_OFFSET = 0x68 => "offsetof.FILE_OBJECT.CurrentByteOffset";
        EVENT = 0x98 => "offsetof.FILE_OBJECT.Event";
    }
    device {
        SIZE = 328 => "sizeof.DEVICE_OBJECT";
        TYPE = 0x00 => "offsetof.DEVICE_OBJECT.Type";
        SIZE_FIELD = 0x02 => "offsetof.DEVICE_OBJECT.Size";
        REFERENCE_COUNT = 0x04 => "offsetof.DEVICE_OBJECT.ReferenceCount";
        DRIVER_OBJECT = 0x08 => "offsetof.DEVICE_OBJECT.DriverObject";
        NEXT_DEVICE = 0x10 => "offsetof.DEVICE_OBJECT.NextDevice";
        FLAGS = 0x30 => "offsetof.DEVICE_OBJECT.Flags";
        CHARACTERISTICS = 0x34 => "offsetof.DEVICE_OBJECT.Characteristics";
        DEVICE_EXTENSION = 0x40 => "offsetof.DEVICE_OBJECT.DeviceExtension";
        DEVICE_TYPE = 0x48 => "offsetof.DEVICE_OBJECT.DeviceType";
        STACK_SIZE = 0x4C => "offsetof.DEVICE_OBJECT.StackSize";
        ALIGNMENT_REQUIREMENT = 0x98 => "offsetof.DEVICE_OBJECT.AlignmentRequirement";
        SECURITY_DESCRIPTOR = 0x110 => "offsetof.DEVICE_OBJECT.SecurityDescriptor";
    }
    driver {
        SIZE = 336 => "sizeof.DRIVER_OBJECT";
        TYPE = 0x00 => "offsetof.DRIVER_OBJECT.Type";
        SIZE_FIELD = 0x02 => "offsetof.DRIVER_OBJECT.Size";
        DEVICE_OBJECT = 0x08 => "offsetof.DRIVER_OBJECT.DeviceObject";
        FLAGS = 0x10 => "offsetof.DRIVER_OBJECT.Flags";
        DRIVER_START = 0x18 => "offsetof.DRIVER_OBJECT.DriverStart";
        DRIVER_SIZE = 0x20 => "offsetof.DRIVER_OBJECT.DriverSize";
        DRIVER_EXTENSION = 0x30 => "offsetof.DRIVER_OBJECT.DriverExtension";
        DRIVER_NAME = 0x38 => "offsetof.DRIVER_OBJECT.DriverName";
        FAST_IO_DISPATCH = 0x50 => "offsetof.DRIVER_OBJECT.FastIoDispatch";
        DRIVER_INIT = 0x58 => "offsetof.DRIVER_OBJECT.DriverInit";
        DRIVER_UNLOAD = 0x68 => "offsetof.DRIVER_OBJECT.DriverUnload";
        MAJOR_FUNCTION = 0x70 => "offsetof.DRIVER_OBJECT.MajorFunction";
    }
    security_context {
        SIZE = 24 => "sizeof.IO_SECURITY_CONTEXT";
        SECURITY_QOS = 0x00 => "offsetof.IO_SECURITY_CONTEXT.SecurityQos";
        ACCESS_STATE = 0x08 => "offsetof.IO_SECURITY_CONTEXT.AccessState";
        DESIRED_ACCESS = 0x10 => "offsetof.IO_SECURITY_CONTEXT.DesiredAccess";
        FULL_CREATE_OPTIONS = 0x14 => "offsetof.IO_SECURITY_CONTEXT.FullCreateOptions";
    }
    access_state {
        SIZE = 160 => "sizeof.ACCESS_STATE";
        OPERATION_ID = 0x00 => "offsetof.ACCESS_STATE.OperationID";
        SECURITY_EVALUATED = 0x08 => "offsetof.ACCESS_STATE.SecurityEvaluated";
        FLAGS = 0x0C => "offsetof.ACCESS_STATE.Flags";
        REMAINING_DESIRED_ACCESS = 0x10 => "offsetof.ACCESS_STATE.RemainingDesiredAccess";
        PREVIOUSLY_GRANTED_ACCESS = 0x14 => "offsetof.ACCESS_STATE.PreviouslyGrantedAccess";
        ORIGINAL_DESIRED_ACCESS = 0x18 => "offsetof.ACCESS_STATE.OriginalDesiredAccess";
        SUBJECT_SECURITY_CONTEXT = 0x20 => "offsetof.ACCESS_STATE.SubjectSecurityContext";
        SECURITY_DESCRIPTOR = 0x40 => "offsetof.ACCESS_STATE.SecurityDescriptor";
        AUX_DATA = 0x48 => "offsetof.ACCESS_STATE.AuxData";
    }
    subject_context {
        SIZE = 32 => "sizeof.SECURITY_SUBJECT_CONTEXT";
        CLIENT_TOKEN = 0x00 => "offsetof.SECURITY_SUBJECT_CONTEXT.ClientToken";
        IMPERSONATION_LEVEL = 0x08 => "offsetof.SECURITY_SUBJECT_CONTEXT.ImpersonationLevel";
        PRIMARY_TOKEN = 0x10 => "offsetof.SECURITY_SUBJECT_CONTEXT.PrimaryToken";
        PROCESS_AUDIT_ID = 0x18 => "offsetof.SECURITY_SUBJECT_CONTEXT.ProcessAuditId";
    }
    token_user {
        SIZE = 16 => "sizeof.TOKEN_USER";
        SID = 0x00 => "offsetof.TOKEN_USER.User.Sid";
        ATTRIBUTES = 0x08 => "offsetof.TOKEN_USER.User.Attributes";
    }
    mailslot_parameters {
        SIZE = 24 => "sizeof.MAILSLOT_CREATE_PARAMETERS";
        QUOTA = 0x00 => "offsetof.MAILSLOT_CREATE_PARAMETERS.MailslotQuota";
        MAXIMUM_MESSAGE_SIZE = 0x04 => "offsetof.MAILSLOT_CREATE_PARAMETERS.MaximumMessageSize";
        READ_TIMEOUT = 0x08 => "offsetof.MAILSLOT_CREATE_PARAMETERS.ReadTimeout";
        TIMEOUT_SPECIFIED = 0x10 => "offsetof.MAILSLOT_CREATE_PARAMETERS.TimeoutSpecified";
    }
    kdpc {
        SIZE = 64 => "sizeof.KDPC";
        DEFERRED_ROUTINE = 0x18 => "offsetof.KDPC.DeferredRoutine";
        DEFERRED_CONTEXT = 0x20 => "offsetof.KDPC.DeferredContext";
        SYSTEM_ARGUMENT1 = 0x28 => "offsetof.KDPC.SystemArgument1";
        SYSTEM_ARGUMENT2 = 0x30 => "offsetof.KDPC.SystemArgument2";
    }
    ktimer {
        SIZE = 64 => "sizeof.KTIMER";
        HEADER = 0x00 => "offsetof.KTIMER.Header";
        DUE_TIME = 0x18 => "offsetof.KTIMER.DueTime";
        DPC = 0x30 => "offsetof.KTIMER.Dpc";
    }
    iosb {
        SIZE = 16 => "sizeof.IO_STATUS_BLOCK";
        INFORMATION = 0x08 => "offsetof.IO_STATUS_BLOCK.Information";
    }
    unicode_string {
        SIZE = 16 => "sizeof.UNICODE_STRING";
        MAXIMUM_LENGTH = 0x02 => "offsetof.UNICODE_STRING.MaximumLength";
        BUFFER = 0x08 => "offsetof.UNICODE_STRING.Buffer";
    }
    object_attributes {
        SIZE = 48 => "sizeof.OBJECT_ATTRIBUTES";
        ROOT_DIRECTORY = 0x08 => "offsetof.OBJECT_ATTRIBUTES.RootDirectory";
        OBJECT_NAME = 0x10 => "offsetof.OBJECT_ATTRIBUTES.ObjectName";
        ATTRIBUTES = 0x18 => "offsetof.OBJECT_ATTRIBUTES.Attributes";
        SECURITY_DESCRIPTOR = 0x20 => "offsetof.OBJECT_ATTRIBUTES.SecurityDescriptor";
        SECURITY_QOS = 0x28 => "offsetof.OBJECT_ATTRIBUTES.SecurityQualityOfService";
    }
    flags {
        FO_SYNCHRONOUS_IO = 0x2 => "const.FO_SYNCHRONOUS_IO";
        FO_NAMED_PIPE = 0x80 => "const.FO_NAMED_PIPE";
        FO_MAILSLOT = 0x200 => "const.FO_MAILSLOT";
        FO_DIRECT_DEVICE_OPEN = 0x800 => "const.FO_DIRECT_DEVICE_OPEN";
        TOKEN_USER_CLASS = 1 => "const.TokenUser";
        DO_BUFFERED_IO = 0x4 => "const.DO_BUFFERED_IO";
        DO_DIRECT_IO = 0x10 => "const.DO_DIRECT_IO";
        DO_DEVICE_INITIALIZING = 0x80 => "const.DO_DEVICE_INITIALIZING";
        IRP_SYNCHRONOUS_API = 0x4 => "const.IRP_SYNCHRONOUS_API";
        IRP_BUFFERED_IO = 0x10 => "const.IRP_BUFFERED_IO";
        IRP_DEALLOCATE_BUFFER = 0x20 => "const.IRP_DEALLOCATE_BUFFER";
        IRP_INPUT_OPERATION = 0x40 => "const.IRP_INPUT_OPERATION";
        IRP_CREATE_OPERATION = 0x80 => "const.IRP_CREATE_OPERATION";
        IRP_CLOSE_OPERATION = 0x400 => "const.IRP_CLOSE_OPERATION";
        IRP_DEFER_IO_COMPLETION = 0x800 => "const.IRP_DEFER_IO_COMPLETION";
        SL_PENDING_RETURNED = 0x1 => "const.SL_PENDING_RETURNED";
        SL_FORCE_ACCESS_CHECK = 0x1 => "const.SL_FORCE_ACCESS_CHECK";
        FILE_DEVICE_SECURE_OPEN = 0x100 => "const.FILE_DEVICE_SECURE_OPEN";
        IO_MAILSLOT_INCREMENT = 2 => "const.IO_MAILSLOT_INCREMENT";
    }
}

/// Windows allocates a DEVICE_OBJECT 16-byte aligned (0x150 bytes); mingw's 328 is the same
/// layout without the trailing alignment (kmdf-abi.md §4), so the emulator allocates this.
pub const DEVICE_OBJECT_ALLOCATION: usize = 0x150;

/// `IO_TYPE_*` values written to the Type fields (wdm.h).
pub const IO_TYPE_DRIVER: u16 = 4;
pub const IO_TYPE_DEVICE: u16 = 3;
pub const IO_TYPE_FILE: u16 = 5;
pub const IO_TYPE_IRP: u16 = 6;
