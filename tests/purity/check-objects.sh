#!/usr/bin/env bash
# Checks that object files are pure: no reference to a symbol that does
# I/O (files, streams, sockets, processes, the environment), reads a clock
# or sleeps, draws randomness, uses threads, or belongs to libcurl, libh2o
# or OpenSSL's TLS, and no thread-local storage. Prints one line per
# offence, "OBJECT: references SYMBOL (WHAT)", and exits 1 when there is
# any, 2 when an object cannot be read.
#
#   tests/purity/check-objects.sh build/obj/config.o build/obj/decide.o ...
set -uo pipefail

# Sets `what` to why symbol $1 may not appear in a core object (empty when
# it may).
why() {
    what=
    case "$1" in
    open | open64 | openat | openat64 | creat | creat64 | close | read | readv | pread | pread64 | \
        write | writev | pwrite | pwrite64 | lseek | lseek64 | fsync | fdatasync | ftruncate | \
        dup | dup2 | dup3 | pipe | pipe2 | ioctl | fcntl | fcntl64 | mmap | mmap64 | munmap | \
        stat | stat64 | fstat | fstat64 | lstat | lstat64 | fstatat | fstatat64 | statx | \
        __xstat | __fxstat | __lxstat | __xstat64 | __fxstat64 | __lxstat64 | \
        access | faccessat | opendir | fdopendir | readdir | readdir64 | closedir | mkdir | \
        rmdir | unlink | unlinkat | rename | renameat | remove | chmod | fchmod | chown | \
        realpath | readlink | mkstemp | mkdtemp | getcwd | chdir | sendfile)
        what="file I/O" ;;
    fopen | fopen64 | fdopen | freopen | fclose | fread | fwrite | fgets | fgetc | getc | getchar | \
        fputs | fputc | putc | putchar | puts | printf | fprintf | vprintf | vfprintf | dprintf | \
        vdprintf | scanf | fscanf | vscanf | vfscanf | perror | fflush | fseek | fseeko | ftell | \
        ftello | rewind | setvbuf | setbuf | open_memstream | fmemopen | tmpfile | getline | \
        getdelim | fileno | ferror | feof | clearerr | \
        __printf_chk | __fprintf_chk | __vprintf_chk | __vfprintf_chk | __dprintf_chk | \
        __vdprintf_chk | __fread_chk | __fgets_chk | __read_chk | __pread_chk | __pread64_chk | \
        __getcwd_chk | __readlink_chk | __realpath_chk | __isoc99_scanf | __isoc99_fscanf | \
        __isoc99_vscanf | __isoc99_vfscanf | __isoc23_scanf | __isoc23_fscanf | \
        __isoc23_vscanf | __isoc23_vfscanf | _IO_putc | _IO_getc | __uflow | __overflow)
        what="stream I/O" ;;
    stdin | stdout | stderr | _IO_2_1_stdin_ | _IO_2_1_stdout_ | _IO_2_1_stderr_)
        what="standard stream" ;;
    socket | socketpair | connect | accept | accept4 | bind | listen | send | sendto | sendmsg | \
        recv | recvfrom | recvmsg | shutdown | setsockopt | getsockopt | getsockname | \
        getpeername | getaddrinfo | freeaddrinfo | getnameinfo | gethostbyname | gethostbyaddr | \
        poll | ppoll | select | pselect | epoll_create | epoll_create1 | epoll_ctl | epoll_wait | \
        eventfd | signalfd | timerfd_create | inotify_init | inotify_init1)
        what="network or event I/O" ;;
    getenv | secure_getenv | setenv | unsetenv | putenv | system | popen | pclose | fork | vfork | \
        execv | execve | execvp | execvpe | execl | execle | execlp | posix_spawn | posix_spawnp | \
        wait | waitpid | kill | raise | signal | sigaction | sigprocmask | exit | _exit | _Exit | \
        atexit | getpid | getppid | getuid | geteuid | syslog | openlog | dlopen | dlsym)
        what="process or environment" ;;
    time | clock | clock_gettime | clock_getres | clock_nanosleep | gettimeofday | nanosleep | \
        sleep | usleep | alarm | setitimer | getitimer | timer_create | times | getrusage | \
        localtime | localtime_r | mktime | tzset | ctime | ctime_r | __clock_gettime | \
        __clock_gettime64 | __gettimeofday64 | __time64 | __nanosleep64)
        what="clock or sleep" ;;
    rand | rand_r | random | srand | srandom | drand48 | lrand48 | getrandom | getentropy | \
        arc4random | RAND_bytes | RAND_priv_bytes | RAND_poll | RAND_seed)
        what="randomness" ;;
    pthread_* | thrd_* | mtx_* | cnd_* | tss_* | call_once | sem_* | sched_yield | __tls_get_addr)
        what="threads" ;;
    curl_* | Curl_*) what="libcurl" ;;
    h2o_*) what="libh2o" ;;
    SSL_* | TLS_* | OPENSSL_init_ssl | BIO_new_file | BIO_new_fp | BIO_new_fd | BIO_new_socket | \
        BIO_new_connect | BIO_new_accept | BIO_read_filename | ERR_print_errors_fp)
        what="OpenSSL TLS or file I/O" ;;
    PEM_read_bio* | PEM_write_bio*) ;;
    PEM_read_* | PEM_write_*) what="OpenSSL file I/O" ;;
    yaml_parser_set_input_file | yaml_emitter_set_output_file) what="libyaml file I/O" ;;
    esac
}

bad=0
for obj in "$@"; do
    if ! syms=$(nm -u "$obj" 2>&1); then
        echo "$obj: cannot read its symbols: $syms"
        exit 2
    fi
    while read -r _ sym; do
        sym=${sym%%@*} # strip a version (fopen@GLIBC_2.2.5)
        why "$sym"
        if [ -n "$what" ]; then
            echo "$obj: references $sym ($what)"
            bad=1
        fi
    done <<<"$syms"
    # thread-local storage, defined or used
    tls=$(readelf -sW "$obj" 2>/dev/null | awk '$4 == "TLS" {print $8}' | sort -u | tr '\n' ' ')
    if [ -n "$tls" ]; then
        echo "$obj: has thread-local storage: ${tls% } (threads)"
        bad=1
    fi
done
exit "$bad"
