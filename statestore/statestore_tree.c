/*  statestore_tree: nodes, buckets and writing them as git trees.

    A directory keeps its children in buckets (sorted by bucket id), each bucket's children
    sorted by name, so a child is found with two binary searches and a bucket's git tree is
    written straight from its array. The root is not bucketed in git: all its children live in
    one pseudo-bucket whose tree is the root tree.  */

#include "statestore_key.h"
#include "statestore_tree.h"

typedef struct _s_node_t s_node_t;

//  One bucket of a directory.
typedef struct {
    uint8_t id;
    s_node_t **children;  // owned array of owned nodes, sorted by name
    size_t count;
    size_t capacity;
    git_oid oid;          // its git tree, valid when !dirty
    bool dirty;
} s_bucket_t;

struct _s_node_t {
    char *name;           // owned; "" for the root
    s_node_t *parent;     // borrowed; NULL for the root
    json_t *value;        // owned; non-NULL for values, NULL for directories
    char *text;           // owned: VALUE as compact JSON, made when first asked for
    int64_t mod_rev;
    git_oid oid;          // blob or tree, valid when !dirty
    bool dirty;
    s_bucket_t *buckets;  // owned, sorted by id (directories only)
    size_t bucket_count;
};

struct _statestore_tree_t {
    s_node_t *root;
    size_t size;          // values in the tree
};

//  What writing needs: where objects go, a reusable buffer for tree objects, the callback.
typedef struct {
    git_odb *odb;
    zchunk_t *buffer;
    s_node_t **sorted;    // scratch array for sorting entries
    size_t sorted_capacity;
    statestore_tree_written_fn *written;
    void *arg;
} s_writer_t;

static s_node_t *
s_node_new (const char *name, size_t length, s_node_t *parent)
{
    s_node_t *node = (s_node_t *) zmalloc (sizeof (s_node_t));
    node->name = strndup (name, length);
    node->parent = parent;
    node->dirty = true;
    return node;
}

static void
s_node_destroy (s_node_t **node_p)
{
    s_node_t *node = *node_p;
    if (!node)
        return;
    for (size_t index = 0; index < node->bucket_count; index++) {
        s_bucket_t *bucket = &node->buckets[index];
        for (size_t child = 0; child < bucket->count; child++)
            s_node_destroy (&bucket->children[child]);
        free (bucket->children);
    }
    free (node->buckets);
    json_decref (node->value);
    free (node->text);
    free (node->name);
    free (node);
    *node_p = NULL;
}

//  The bucket id a child named NAME uses inside NODE.
static uint8_t
s_bucket_id (const s_node_t *node, const char *name, size_t length)
{
    return node->parent ? statestore_key_bucket (name, length) : 0;
}

//  Binary search for bucket ID in NODE; returns its index, or the insertion point as
//  -(index + 1) when absent.
static ssize_t
s_find_bucket (const s_node_t *node, uint8_t id)
{
    size_t low = 0, high = node->bucket_count;
    while (low < high) {
        size_t middle = (low + high) / 2;
        if (node->buckets[middle].id == id)
            return (ssize_t) middle;
        if (node->buckets[middle].id < id)
            low = middle + 1;
        else
            high = middle;
    }
    return -(ssize_t) low - 1;
}

//  Compare a name of LENGTH bytes with a NUL-terminated one, as strcmp would.
static int
s_compare (const char *name, size_t length, const char *other)
{
    int order = strncmp (name, other, length);
    if (order)
        return order;
    return other[length] == '\0' ? 0 : -1;
}

static ssize_t
s_find_child (const s_bucket_t *bucket, const char *name, size_t length)
{
    size_t low = 0, high = bucket->count;
    while (low < high) {
        size_t middle = (low + high) / 2;
        int order = s_compare (name, length, bucket->children[middle]->name);
        if (order == 0)
            return (ssize_t) middle;
        if (order > 0)
            low = middle + 1;
        else
            high = middle;
    }
    return -(ssize_t) low - 1;
}

static s_node_t *
s_child (const s_node_t *node, const char *name, size_t length)
{
    ssize_t bucket = s_find_bucket (node, s_bucket_id (node, name, length));
    if (bucket < 0)
        return NULL;
    ssize_t child = s_find_child (&node->buckets[bucket], name, length);
    return child < 0 ? NULL : node->buckets[bucket].children[child];
}

//  Insert a new child named NAME into NODE (it must be absent) and return it.
static s_node_t *
s_add_child (s_node_t *node, const char *name, size_t length)
{
    uint8_t id = s_bucket_id (node, name, length);
    ssize_t position = s_find_bucket (node, id);
    if (position < 0) {
        position = -position - 1;
        node->buckets = realloc (node->buckets, (node->bucket_count + 1) * sizeof (s_bucket_t));
        memmove (&node->buckets[position + 1], &node->buckets[position],
                 (node->bucket_count - position) * sizeof (s_bucket_t));
        memset (&node->buckets[position], 0, sizeof (s_bucket_t));
        node->buckets[position].id = id;
        node->bucket_count++;
    }
    s_bucket_t *bucket = &node->buckets[position];
    ssize_t slot = -s_find_child (bucket, name, length) - 1;
    assert (slot >= 0);
    if (bucket->count == bucket->capacity) {
        bucket->capacity = bucket->capacity ? bucket->capacity * 2 : 4;
        bucket->children = realloc (bucket->children, bucket->capacity * sizeof (s_node_t *));
    }
    memmove (&bucket->children[slot + 1], &bucket->children[slot],
             (bucket->count - slot) * sizeof (s_node_t *));
    s_node_t *child = s_node_new (name, length, node);
    bucket->children[slot] = child;
    bucket->count++;
    bucket->dirty = true;
    return child;
}

//  Unlink and free CHILD from its parent; an emptied bucket goes too.
static void
s_remove_child (s_node_t *child)
{
    s_node_t *node = child->parent;
    size_t length = strlen (child->name);
    ssize_t position = s_find_bucket (node, s_bucket_id (node, child->name, length));
    assert (position >= 0);
    s_bucket_t *bucket = &node->buckets[position];
    ssize_t slot = s_find_child (bucket, child->name, length);
    assert (slot >= 0);
    s_node_destroy (&bucket->children[slot]);
    memmove (&bucket->children[slot], &bucket->children[slot + 1],
             (bucket->count - slot - 1) * sizeof (s_node_t *));
    bucket->count--;
    bucket->dirty = true;
    if (bucket->count == 0) {
        free (bucket->children);
        memmove (&node->buckets[position], &node->buckets[position + 1],
                 (node->bucket_count - position - 1) * sizeof (s_bucket_t));
        node->bucket_count--;
    }
}

//  Mark NODE and everything above it dirty, with the buckets that hold them.
static void
s_mark_dirty (s_node_t *node)
{
    while (node) {
        node->dirty = true;
        s_node_t *parent = node->parent;
        if (parent) {
            size_t length = strlen (node->name);
            ssize_t position = s_find_bucket (parent, s_bucket_id (parent, node->name, length));
            if (position >= 0)
                parent->buckets[position].dirty = true;
        }
        node = parent;
    }
}

//  Find the node of KEY, or NULL.
static s_node_t *
s_lookup (statestore_tree_t *self, const char *key)
{
    s_node_t *node = self->root;
    const char *segment = key + 1;
    while (node && *segment) {
        size_t length = strcspn (segment, "/");
        node = s_child (node, segment, length);
        segment += length;
        if (*segment == '/')
            segment++;
    }
    return node;
}

statestore_tree_t *
statestore_tree_new (void)
{
    statestore_tree_t *self = (statestore_tree_t *) zmalloc (sizeof (statestore_tree_t));
    self->root = s_node_new ("", 0, NULL);
    return self;
}

void
statestore_tree_destroy (statestore_tree_t **self_p)
{
    assert (self_p);
    statestore_tree_t *self = *self_p;
    if (!self)
        return;
    s_node_destroy (&self->root);
    free (self);
    *self_p = NULL;
}

json_t *
statestore_tree_get (statestore_tree_t *self, const char *key, int64_t *mod_rev)
{
    assert (self);
    s_node_t *node = s_lookup (self, key);
    if (!node || !node->value)
        return NULL;
    if (mod_rev)
        *mod_rev = node->mod_rev;
    return node->value;
}

bool
statestore_tree_is_directory (statestore_tree_t *self, const char *key)
{
    assert (self);
    s_node_t *node = s_lookup (self, key);
    return node && !node->value && node->bucket_count > 0;
}

int
statestore_tree_put (statestore_tree_t *self, const char *key, json_t *value, int64_t mod_rev,
                     char *reason, size_t reason_size)
{
    assert (self);
    assert (value);
    //  Check the whole path first so a refused put changes nothing.
    s_node_t *node = self->root;
    const char *segment = key + 1;
    while (*segment) {
        size_t length = strcspn (segment, "/");
        bool last = segment[length] == '\0';
        s_node_t *child = s_child (node, segment, length);
        if (!child)
            break;
        if (!last && child->value) {
            snprintf (reason, reason_size, "%.*s holds a value, so it cannot have keys below it",
                      (int) (segment + length - key), key);
            json_decref (value);
            return -1;
        }
        if (last && !child->value) {
            snprintf (reason, reason_size, "%s has keys below it", key);
            json_decref (value);
            return -1;
        }
        node = child;
        segment += length + (last ? 0 : 1);
    }
    //  Create what is missing, then store the value.
    while (*segment) {
        size_t length = strcspn (segment, "/");
        node = s_add_child (node, segment, length);
        segment += length;
        if (*segment == '/')
            segment++;
    }
    if (!node->value)
        self->size++;
    json_decref (node->value);
    node->value = value;
    free (node->text);
    node->text = NULL;
    node->mod_rev = mod_rev;
    s_mark_dirty (node);
    return 0;
}

int
statestore_tree_del (statestore_tree_t *self, const char *key)
{
    assert (self);
    s_node_t *node = s_lookup (self, key);
    if (!node || !node->value)
        return -1;
    self->size--;
    //  Remove the value, then every directory it leaves empty.
    s_node_t *parent = node->parent;
    s_remove_child (node);
    while (parent->parent && parent->bucket_count == 0) {
        s_node_t *empty = parent;
        parent = parent->parent;
        s_remove_child (empty);
    }
    s_mark_dirty (parent);
    return 0;
}

static int
s_by_name (const void *left, const void *right)
{
    return strcmp ((*(s_node_t *const *) left)->name, (*(s_node_t *const *) right)->name);
}

//  What a walk calls: the value as JSON or as compact text.
typedef struct {
    statestore_tree_fn *fn;
    statestore_tree_text_fn *text_fn;
    void *arg;
} s_visit_t;

static int
s_visit (s_node_t *node, const char *key, const s_visit_t *visit)
{
    if (visit->fn)
        return visit->fn (key, node->value, node->mod_rev, visit->arg);
    if (!node->text)
        node->text = json_dumps (node->value, JSON_COMPACT | JSON_ENCODE_ANY);
    return node->text ? visit->text_fn (key, node->text, node->mod_rev, visit->arg) : -1;
}

//  Walk NODE, whose key is KEY (length LENGTH, in a buffer of STATESTORE_KEY_MAX + 1).
static int
s_walk (s_node_t *node, char *key, size_t length, const s_visit_t *visit)
{
    if (node->value)
        return s_visit (node, key, visit);
    //  Children in name order across buckets.
    size_t count = 0;
    for (size_t index = 0; index < node->bucket_count; index++)
        count += node->buckets[index].count;
    s_node_t **sorted = (s_node_t **) malloc ((count ? count : 1) * sizeof (s_node_t *));
    size_t used = 0;
    for (size_t index = 0; index < node->bucket_count; index++) {
        memcpy (sorted + used, node->buckets[index].children,
                node->buckets[index].count * sizeof (s_node_t *));
        used += node->buckets[index].count;
    }
    qsort (sorted, count, sizeof (s_node_t *), s_by_name);
    int rc = 0;
    for (size_t index = 0; index < count && rc == 0; index++) {
        size_t name_length = strlen (sorted[index]->name);
        key[length] = '/';
        memcpy (key + length + 1, sorted[index]->name, name_length + 1);
        rc = s_walk (sorted[index], key, length + 1 + name_length, visit);
        key[length] = '\0';
    }
    free (sorted);
    return rc;
}

static int
s_foreach (statestore_tree_t *self, const char *prefix, const s_visit_t *visit)
{
    char key[STATESTORE_KEY_MAX + 2] = "";
    s_node_t *node = self->root;
    size_t length = 0;
    if (prefix[0] && strcmp (prefix, "/")) {
        node = s_lookup (self, prefix);
        if (!node)
            return 0;
        length = strlen (prefix);
        memcpy (key, prefix, length + 1);
    }
    return s_walk (node, key, length, visit);
}

int
statestore_tree_foreach (statestore_tree_t *self, const char *prefix, statestore_tree_fn *fn,
                         void *arg)
{
    assert (self);
    s_visit_t visit = {fn, NULL, arg};
    return s_foreach (self, prefix, &visit);
}

int
statestore_tree_foreach_text (statestore_tree_t *self, const char *prefix,
                              statestore_tree_text_fn *fn, void *arg)
{
    assert (self);
    s_visit_t visit = {NULL, fn, arg};
    return s_foreach (self, prefix, &visit);
}

size_t
statestore_tree_size (statestore_tree_t *self)
{
    assert (self);
    return self->size;
}

static const char s_hex[] = "0123456789abcdef";

//  Git orders tree entries by name as if every tree's name ended with '/'.
static int
s_git_order (const void *left, const void *right)
{
    const s_node_t *a = *(const s_node_t *const *) left;
    const s_node_t *b = *(const s_node_t *const *) right;
    const unsigned char *x = (const unsigned char *) a->name;
    const unsigned char *y = (const unsigned char *) b->name;
    while (*x && *x == *y)
        x++, y++;
    unsigned char end_x = *x ? *x : (a->value ? 0 : '/');
    unsigned char end_y = *y ? *y : (b->value ? 0 : '/');
    return (int) end_x - (int) end_y;
}

//  Append one tree entry: "<mode> <name>\0<20-byte id>".
static void
s_append_entry (zchunk_t *buffer, bool is_tree, const char *name, size_t length,
                const git_oid *oid)
{
    if (is_tree)
        zchunk_extend (buffer, "40000 ", 6);
    else
        zchunk_extend (buffer, "100644 ", 7);
    zchunk_extend (buffer, name, length + 1);
    zchunk_extend (buffer, oid->id, GIT_OID_RAWSZ);
}

//  Store the tree object in the writer's buffer; its id goes to OID.
static int
s_store_tree (s_writer_t *writer, git_oid *oid)
{
    if (git_odb_write (oid, writer->odb, zchunk_data (writer->buffer),
                       zchunk_size (writer->buffer), GIT_OBJECT_TREE))
        return -1;
    return writer->written ? writer->written (oid, writer->arg) : 0;
}

static int s_write_node (s_node_t *node, s_writer_t *writer);

//  Write one bucket's children as a git tree (git's entry format, written directly: a
//  treebuilder would validate and copy every entry on each commit).
static int
s_write_bucket (s_bucket_t *bucket, s_writer_t *writer)
{
    for (size_t index = 0; index < bucket->count; index++)
        if (s_write_node (bucket->children[index], writer))
            return -1;
    if (bucket->count > writer->sorted_capacity) {
        writer->sorted_capacity = bucket->count * 2;
        writer->sorted = (s_node_t **) realloc (writer->sorted,
                                                writer->sorted_capacity * sizeof (s_node_t *));
    }
    memcpy (writer->sorted, bucket->children, bucket->count * sizeof (s_node_t *));
    qsort (writer->sorted, bucket->count, sizeof (s_node_t *), s_git_order);
    zchunk_set (writer->buffer, NULL, 0);
    for (size_t index = 0; index < bucket->count; index++) {
        const s_node_t *child = writer->sorted[index];
        s_append_entry (writer->buffer, !child->value, child->name, strlen (child->name),
                        &child->oid);
    }
    if (s_store_tree (writer, &bucket->oid))
        return -1;
    bucket->dirty = false;
    return 0;
}

static int
s_write_node (s_node_t *node, s_writer_t *writer)
{
    if (!node->dirty)
        return 0;
    if (node->value) {
        //  Pretty, sorted JSON: `git log -p` then shows readable, stable diffs.
        char *text = json_dumps (node->value, JSON_INDENT (2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (!text)
            return -1;
        size_t length = strlen (text);
        char *line = (char *) realloc (text, length + 2);
        if (!line) {
            free (text);
            return -1;
        }
        line[length] = '\n';
        int rc = git_odb_write (&node->oid, writer->odb, line, length + 1, GIT_OBJECT_BLOB);
        free (line);
        if (rc || (writer->written && writer->written (&node->oid, writer->arg)))
            return -1;
        node->dirty = false;
        return 0;
    }
    for (size_t index = 0; index < node->bucket_count; index++)
        if (node->buckets[index].dirty && s_write_bucket (&node->buckets[index], writer))
            return -1;
    if (!node->parent && node->bucket_count == 1)
        node->oid = node->buckets[0].oid;  // the root's pseudo-bucket is the root tree
    else {
        //  Bucket names are two hex digits, so they sort as they are.
        zchunk_set (writer->buffer, NULL, 0);
        for (size_t index = 0; index < node->bucket_count; index++) {
            uint8_t id = node->buckets[index].id;
            char name[3] = {s_hex[id >> 4], s_hex[id & 15], '\0'};
            s_append_entry (writer->buffer, true, name, 2, &node->buckets[index].oid);
        }
        if (s_store_tree (writer, &node->oid))
            return -1;
    }
    node->dirty = false;
    return 0;
}

int
statestore_tree_write (statestore_tree_t *self, git_odb *odb, git_oid *root,
                       statestore_tree_written_fn *written, void *arg)
{
    assert (self);
    s_writer_t writer = {odb, zchunk_new (NULL, 8192), NULL, 0, written, arg};
    int rc = s_write_node (self->root, &writer);
    zchunk_destroy (&writer.buffer);
    free (writer.sorted);
    if (rc)
        return -1;
    *root = self->root->oid;
    return 0;
}

//  Loading: fill NODE (whose key is KEY) from git tree TREE.
typedef struct {
    git_repository *repo;
    zhashx_t *mod_revs;
    statestore_tree_t *tree;
    char *reason;
    size_t reason_size;
} s_loader_t;

static int s_load_children (s_loader_t *loader, s_node_t *node, git_tree *tree, char *key,
                            size_t length);

static int
s_load_entry (s_loader_t *loader, s_node_t *node, const git_tree_entry *entry, char *key,
              size_t length)
{
    const char *name = git_tree_entry_name (entry);
    size_t name_length = strlen (name);
    if (length + 1 + name_length > STATESTORE_KEY_MAX) {
        snprintf (loader->reason, loader->reason_size, "key under %s too long", key);
        return -1;
    }
    key[length] = '/';
    memcpy (key + length + 1, name, name_length + 1);
    s_node_t *child = s_add_child (node, name, name_length);
    child->oid = *git_tree_entry_id (entry);
    int rc = -1;
    if (git_tree_entry_type (entry) == GIT_OBJECT_BLOB) {
        git_blob *blob = NULL;
        if (git_blob_lookup (&blob, loader->repo, &child->oid) == 0) {
            json_error_t error;
            child->value = json_loadb (git_blob_rawcontent (blob), git_blob_rawsize (blob),
                                       JSON_DECODE_ANY, &error);
            if (!child->value)
                snprintf (loader->reason, loader->reason_size, "%s: not JSON: %s", key,
                          error.text);
            git_blob_free (blob);
        }
        if (child->value) {
            void *rev = loader->mod_revs ? zhashx_lookup (loader->mod_revs, key) : NULL;
            child->mod_rev = (int64_t) (intptr_t) rev;
            loader->tree->size++;
            rc = 0;
        }
    }
    else if (git_tree_entry_type (entry) == GIT_OBJECT_TREE) {
        git_tree *subtree = NULL;
        if (git_tree_lookup (&subtree, loader->repo, &child->oid) == 0)
            rc = s_load_children (loader, child, subtree, key, length + 1 + name_length);
        git_tree_free (subtree);
    }
    child->dirty = false;
    key[length] = '\0';
    return rc;
}

static int
s_load_children (s_loader_t *loader, s_node_t *node, git_tree *tree, char *key, size_t length)
{
    size_t count = git_tree_entrycount (tree);
    for (size_t index = 0; index < count; index++) {
        const git_tree_entry *entry = git_tree_entry_byindex (tree, index);
        if (!node->parent) {
            if (s_load_entry (loader, node, entry, key, length))
                return -1;
            continue;
        }
        //  Below the top level each entry is a bucket tree holding the children.
        git_tree *bucket = NULL;
        if (git_tree_entry_type (entry) != GIT_OBJECT_TREE
            || strlen (git_tree_entry_name (entry)) != 2
            || git_tree_lookup (&bucket, loader->repo, git_tree_entry_id (entry))) {
            snprintf (loader->reason, loader->reason_size, "%s: entry %s is not a bucket",
                      length ? key : "/", git_tree_entry_name (entry));
            return -1;
        }
        int rc = 0;
        size_t children = git_tree_entrycount (bucket);
        for (size_t child = 0; child < children && rc == 0; child++)
            rc = s_load_entry (loader, node, git_tree_entry_byindex (bucket, child), key, length);
        git_tree_free (bucket);
        if (rc)
            return -1;
    }
    //  Buckets were rebuilt from the entries: they are clean, with the ids git has.
    for (size_t index = 0; index < node->bucket_count; index++) {
        node->buckets[index].dirty = node->parent == NULL;
        if (node->parent) {
            char name[3];
            snprintf (name, sizeof name, "%02x", node->buckets[index].id);
            const git_tree_entry *entry = git_tree_entry_byname (tree, name);
            if (!entry) {
                snprintf (loader->reason, loader->reason_size, "%s: a child is in the wrong "
                          "bucket", length ? key : "/");
                return -1;
            }
            node->buckets[index].oid = *git_tree_entry_id (entry);
        }
    }
    if (!node->parent && node->bucket_count == 1) {
        node->buckets[0].oid = *git_tree_id (tree);
        node->buckets[0].dirty = false;
    }
    return 0;
}

int
statestore_tree_load (statestore_tree_t *self, git_repository *repo, const git_oid *root,
                      zhashx_t *mod_revs, char *reason, size_t reason_size)
{
    assert (self);
    s_node_destroy (&self->root);
    self->root = s_node_new ("", 0, NULL);
    self->size = 0;
    git_tree *tree = NULL;
    if (git_tree_lookup (&tree, repo, root)) {
        snprintf (reason, reason_size, "root tree missing: %s", git_error_last ()->message);
        return -1;
    }
    char key[STATESTORE_KEY_MAX + 2] = "";
    s_loader_t loader = {repo, mod_revs, self, reason, reason_size};
    int rc = s_load_children (&loader, self->root, tree, key, 0);
    git_tree_free (tree);
    if (rc == 0) {
        self->root->oid = *root;
        self->root->dirty = false;
    }
    return rc;
}
