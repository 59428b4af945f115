/* jsonarena: a per-thread bump arena behind cJSON's allocation hooks, so that
 * a request's JSON trees cost no malloc/free per node.
 *
 * jsonarena_install() (once, before threads start) routes cJSON's hooks here,
 * and makes blocks of 256 KiB and more come from mmap (so that a large
 * review's memory goes back to the system once it is answered).
 * Between jsonarena_begin() and jsonarena_end() on a thread, every cJSON
 * allocation of that thread comes from the arena and cJSON frees of arena
 * memory do nothing; jsonarena_end() drops it all at once (the first chunk is
 * kept for the next request). Outside begin/end the hooks are malloc/free.
 * Nothing allocated inside may be used or freed after jsonarena_end(). */
#ifndef WH_JSONARENA_H
#define WH_JSONARENA_H

void jsonarena_install(void);
void jsonarena_begin(void);
void jsonarena_end(void);
/* Frees the calling thread's arena (at the end of a thread). */
void jsonarena_release(void);
/* Gives the free memory of every thread's heap back to the system. Costly
 * (it walks all free blocks, a millisecond or two, and the pages are
 * faulted in again when next used): only after a large review. */
void jsonarena_trim(void);

#endif
